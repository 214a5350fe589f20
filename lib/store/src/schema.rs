//! The table definition is read from `template.yaml` itself (the
//! `AWS::DynamoDB::Table` resource), so the local table and the deployed one
//! cannot drift.

use crate::error::{from_sdk, StoreError};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType, ScalarAttributeType,
    StreamSpecification, StreamViewType, TimeToLiveSpecification,
};
use aws_sdk_dynamodb::Client;
use serde::Deserialize;
use std::path::Path;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct AttributeDef {
    pub attribute_name: String,
    pub attribute_type: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct KeyDef {
    pub attribute_name: String,
    pub key_type: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct ProjectionDef {
    pub projection_type: String,
    #[serde(default)]
    pub non_key_attributes: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct IndexDef {
    pub index_name: String,
    pub key_schema: Vec<KeyDef>,
    pub projection: ProjectionDef,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct TtlDef {
    pub attribute_name: String,
    pub enabled: bool,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct StreamDef {
    pub stream_view_type: String,
}

/// The parts of the template's table that a local table needs.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct TableDef {
    pub attribute_definitions: Vec<AttributeDef>,
    pub key_schema: Vec<KeyDef>,
    #[serde(default)]
    pub global_secondary_indexes: Vec<IndexDef>,
    pub billing_mode: Option<String>,
    pub time_to_live_specification: Option<TtlDef>,
    /// The table's stream (DynamoDB Local serves the Streams API too).
    pub stream_specification: Option<StreamDef>,
}

impl TableDef {
    /// Reads the single `AWS::DynamoDB::Table` resource of a SAM/CloudFormation template.
    pub fn from_template(path: &Path) -> Result<TableDef, StoreError> {
        let text = std::fs::read_to_string(path).map_err(|e| StoreError::Invalid(format!("cannot read {}: {e}", path.display())))?;
        Self::from_template_str(&text)
    }

    pub fn from_template_str(text: &str) -> Result<TableDef, StoreError> {
        let doc: serde_yaml::Value = serde_yaml::from_str(text).map_err(|e| StoreError::Invalid(format!("template is not YAML: {e}")))?;
        let resources =
            doc.get("Resources").and_then(|r| r.as_mapping()).ok_or_else(|| StoreError::Invalid("template has no Resources".into()))?;
        let tables: Vec<&serde_yaml::Value> =
            resources.values().filter(|r| r.get("Type").and_then(|t| t.as_str()) == Some("AWS::DynamoDB::Table")).collect();
        let [table] = tables.as_slice() else {
            return Err(StoreError::Invalid(format!("expected one AWS::DynamoDB::Table, found {}", tables.len())));
        };
        let props = table.get("Properties").cloned().unwrap_or_default();
        serde_yaml::from_value(props).map_err(|e| StoreError::Invalid(format!("table properties: {e}")))
    }

    /// Creates the table (and its TTL setting) unless it exists.
    pub async fn create(&self, client: &Client, table_name: &str) -> Result<(), StoreError> {
        let attr_type = |t: &str| ScalarAttributeType::from(t);
        let key = |k: &KeyDef| {
            KeySchemaElement::builder()
                .attribute_name(&k.attribute_name)
                .key_type(KeyType::from(k.key_type.as_str()))
                .build()
                .map_err(StoreError::build)
        };
        let mut req = client
            .create_table()
            .table_name(table_name)
            .billing_mode(BillingMode::from(self.billing_mode.as_deref().unwrap_or("PAY_PER_REQUEST")));
        for a in &self.attribute_definitions {
            req = req.attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(&a.attribute_name)
                    .attribute_type(attr_type(&a.attribute_type))
                    .build()
                    .map_err(StoreError::build)?,
            );
        }
        for k in &self.key_schema {
            req = req.key_schema(key(k)?);
        }
        if let Some(st) = &self.stream_specification {
            req = req.stream_specification(
                StreamSpecification::builder()
                    .stream_enabled(true)
                    .stream_view_type(StreamViewType::from(st.stream_view_type.as_str()))
                    .build()
                    .map_err(StoreError::build)?,
            );
        }
        for g in &self.global_secondary_indexes {
            let mut gsi = GlobalSecondaryIndex::builder().index_name(&g.index_name).projection(
                Projection::builder()
                    .projection_type(ProjectionType::from(g.projection.projection_type.as_str()))
                    .set_non_key_attributes((!g.projection.non_key_attributes.is_empty()).then(|| g.projection.non_key_attributes.clone()))
                    .build(),
            );
            for k in &g.key_schema {
                gsi = gsi.key_schema(key(k)?);
            }
            req = req.global_secondary_indexes(gsi.build().map_err(StoreError::build)?);
        }
        match req.send().await {
            Ok(_) => {}
            Err(e) if e.as_service_error().map(|s| s.is_resource_in_use_exception()).unwrap_or(false) => return Ok(()),
            Err(e) => return Err(from_sdk("CreateTable", e)),
        }
        if let Some(ttl) = &self.time_to_live_specification {
            client
                .update_time_to_live()
                .table_name(table_name)
                .time_to_live_specification(
                    TimeToLiveSpecification::builder()
                        .attribute_name(&ttl.attribute_name)
                        .enabled(ttl.enabled)
                        .build()
                        .map_err(StoreError::build)?,
                )
                .send()
                .await
                .map_err(|e| from_sdk("UpdateTimeToLive", e))?;
        }
        Ok(())
    }
}

/// Path of `template.yaml` at the repository root, from any crate of the workspace.
pub fn template_path() -> std::path::PathBuf {
    let mut dir = std::env::current_dir().unwrap_or_default();
    loop {
        let candidate = dir.join("template.yaml");
        if candidate.exists() {
            return candidate;
        }
        if !dir.pop() {
            return std::path::PathBuf::from("template.yaml");
        }
    }
}

//! The table's stream, locally: DynamoDB Local serves the Streams API, and
//! this poller stands in for Lambda's DynamoDB event source mapping. It
//! reads every shard from the start (`TRIM_HORIZON`, as the template's
//! mapping does), applies the template's filter (TRANSACTION items only),
//! hands each batch to the evaluator's own handler as the Lambda event, and
//! on reported failures re-reads from the first failed record, up to the
//! mapping's `MaximumRetryAttempts`, then moves on (deployed, the batch would
//! go to the on-failure queue).

use aws_sdk_dynamodbstreams::types::{Record, ShardIteratorType};
use expenzez_budgets::{stream, NotificationQueue};
use expenzez_store::Table;
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::task::JoinHandle;

/// The template's `MaximumRetryAttempts` and `BatchSize`.
const MAX_RETRIES: u32 = 5;
const BATCH_SIZE: i32 = 100;
const IDLE: Duration = Duration::from_millis(200);

#[derive(Default)]
struct Shard {
    iterator: Option<String>,
    last: Option<String>,
    closed: bool,
    done: bool,
}

/// A Streams client on the same endpoint as DynamoDB (`AWS_ENDPOINT_URL_DYNAMODB_STREAMS`
/// if set, else DynamoDB Local's own `AWS_ENDPOINT_URL_DYNAMODB`).
async fn client() -> aws_sdk_dynamodbstreams::Client {
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let mut conf = aws_sdk_dynamodbstreams::config::Builder::from(&sdk);
    if std::env::var("AWS_ENDPOINT_URL_DYNAMODB_STREAMS").is_err() {
        if let Ok(url) = std::env::var("AWS_ENDPOINT_URL_DYNAMODB") {
            conf = conf.endpoint_url(url);
        }
    }
    aws_sdk_dynamodbstreams::Client::from_conf(conf.build())
}

/// The Lambda event JSON of one stream record (the shape the deployed
/// function receives), or `None` when the template's filter drops it.
pub fn lambda_record(r: &Record, stream_arn: &str) -> Option<serde_json::Value> {
    let d = r.dynamodb.as_ref()?;
    let image = |m: Option<&std::collections::HashMap<String, aws_sdk_dynamodbstreams::types::AttributeValue>>| match m {
        Some(m) => serde_json::to_value(serde_dynamo::Item::from(m.clone())).unwrap_or_default(),
        None => serde_json::json!({}),
    };
    let (new, old) = (image(d.new_image.as_ref()), image(d.old_image.as_ref()));
    let is_transaction = |v: &serde_json::Value| v["entityType"]["S"] == "TRANSACTION";
    if !is_transaction(&new) && !is_transaction(&old) {
        return None;
    }
    Some(serde_json::json!({
        "eventID": r.event_id(),
        "eventName": r.event_name().map(|n| n.as_str()),
        "eventVersion": r.event_version(),
        "eventSource": "aws:dynamodb",
        "awsRegion": r.aws_region(),
        "eventSourceARN": stream_arn,
        "dynamodb": {
            "ApproximateCreationDateTime": d.approximate_creation_date_time().map(|t| t.secs()).unwrap_or_default(),
            "Keys": image(d.keys.as_ref()),
            "NewImage": new,
            "OldImage": old,
            "SequenceNumber": d.sequence_number(),
            "SizeBytes": d.size_bytes().unwrap_or_default(),
            "StreamViewType": d.stream_view_type().map(|v| v.as_str()),
        },
    }))
}

/// Polls the stream of `table` and runs the evaluator until the task is aborted.
pub fn poll(table: Table, queue: Option<NotificationQueue>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let streams = client().await;
        let arn = loop {
            match table.client().describe_table().table_name(table.name()).send().await {
                Ok(d) => match d.table().and_then(|t| t.latest_stream_arn()) {
                    Some(a) => break a.to_string(),
                    None => {
                        tracing::error!("the local table has no stream: budget alerts are not evaluated");
                        return;
                    }
                },
                Err(e) => {
                    tracing::warn!(error = %aws_sdk_dynamodb::error::DisplayErrorContext(&e), "local table not ready");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        };
        // shard id -> its iterator, the last sequence number handed over, and whether it is closed.
        let mut shards: BTreeMap<String, Shard> = BTreeMap::new();
        let mut retries: BTreeMap<String, u32> = BTreeMap::new();
        loop {
            let mut busy = false;
            if let Ok(d) = streams.describe_stream().stream_arn(&arn).send().await {
                for shard in d.stream_description().map(|s| s.shards()).unwrap_or_default() {
                    let Some(id) = shard.shard_id() else { continue };
                    let closed = shard.sequence_number_range().and_then(|r| r.ending_sequence_number()).is_some();
                    let entry = shards.entry(id.to_string()).or_default();
                    entry.closed = closed;
                }
            }
            for (id, shard) in shards.iter_mut() {
                // DynamoDB Local may end an open shard's iterator chain (e.g. while it is
                // empty): pick it up again after the last record read.
                if shard.iterator.is_none() && !shard.done {
                    let req = streams.get_shard_iterator().stream_arn(&arn).shard_id(id);
                    let req = match &shard.last {
                        Some(seq) => req.shard_iterator_type(ShardIteratorType::AfterSequenceNumber).sequence_number(seq),
                        None => req.shard_iterator_type(ShardIteratorType::TrimHorizon),
                    };
                    if let Ok(it) = req.send().await {
                        shard.iterator = it.shard_iterator().map(str::to_string);
                    }
                }
            }
            for (shard_id, state) in shards.iter_mut() {
                let shard = shard_id.as_str();
                let Some(it) = state.iterator.clone() else { continue };
                let out = match streams.get_records().shard_iterator(&it).limit(BATCH_SIZE).send().await {
                    Ok(o) => o,
                    Err(e) => {
                        // DynamoDB Local answers TrimmedDataAccess for a TRIM_HORIZON iterator
                        // taken while the shard was empty: take a new one on the next round.
                        tracing::debug!(error = %aws_sdk_dynamodbstreams::error::DisplayErrorContext(&e), "local stream read failed");
                        state.iterator = None;
                        continue;
                    }
                };
                let records = out.records();
                state.iterator = out.next_shard_iterator().map(str::to_string);
                if state.iterator.is_none() && state.closed {
                    state.done = true;
                }
                if records.is_empty() {
                    continue;
                }
                state.last = records.last().and_then(|r| r.dynamodb.as_ref()).and_then(|d| d.sequence_number()).map(str::to_string);
                busy = true;
                let filtered: Vec<serde_json::Value> = records.iter().filter_map(|r| lambda_record(r, &arn)).collect();
                if filtered.is_empty() {
                    continue;
                }
                let event = match serde_json::from_value(serde_json::json!({ "Records": filtered })) {
                    Ok(e) => e,
                    Err(e) => {
                        tracing::error!(error = %e, "could not build the DynamoDB stream event");
                        continue;
                    }
                };
                let response = stream::handle(&table, queue.as_ref(), event).await;
                let Some(first) = response.batch_item_failures.first().and_then(|f| f.item_identifier.clone()) else {
                    retries.remove(shard);
                    continue;
                };
                let n = retries.entry(shard.to_string()).or_default();
                *n += 1;
                if *n > MAX_RETRIES {
                    tracing::error!(shard, sequence = %first, "budget alert batch failed {MAX_RETRIES} retries; skipped (deployed: the on-failure queue)");
                    retries.remove(shard);
                    continue;
                }
                // Lambda resumes from the first failed record.
                let again = streams
                    .get_shard_iterator()
                    .stream_arn(&arn)
                    .shard_id(shard)
                    .shard_iterator_type(ShardIteratorType::AtSequenceNumber)
                    .sequence_number(&first)
                    .send()
                    .await;
                if let Ok(again) = again {
                    state.iterator = again.shard_iterator().map(str::to_string);
                    state.done = false;
                }
                tokio::time::sleep(IDLE).await;
            }
            if !busy {
                tokio::time::sleep(IDLE).await;
            }
        }
    })
}

/// Every record the stream of `table` holds so far, as the Lambda event's
/// records (filtered as the template filters them): what a redelivery of the
/// whole stream would hand the evaluator.
pub async fn records_so_far(table: &Table) -> anyhow::Result<Vec<serde_json::Value>> {
    let streams = client().await;
    let d = table.client().describe_table().table_name(table.name()).send().await?;
    let arn = d.table().and_then(|t| t.latest_stream_arn()).ok_or_else(|| anyhow::anyhow!("the table has no stream"))?.to_string();
    let desc = streams.describe_stream().stream_arn(&arn).send().await?;
    let mut out = Vec::new();
    for shard in desc.stream_description().map(|s| s.shards()).unwrap_or_default() {
        let Some(id) = shard.shard_id() else { continue };
        let it =
            streams.get_shard_iterator().stream_arn(&arn).shard_id(id).shard_iterator_type(ShardIteratorType::TrimHorizon).send().await?;
        let mut it = it.shard_iterator().map(str::to_string);
        while let Some(i) = it {
            let page = streams.get_records().shard_iterator(&i).limit(BATCH_SIZE).send().await?;
            if page.records().is_empty() {
                break;
            }
            out.extend(page.records().iter().filter_map(|r| lambda_record(r, &arn)));
            it = page.next_shard_iterator().map(str::to_string);
        }
    }
    Ok(out)
}

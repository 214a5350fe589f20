//! The routes in template.yaml, the routes the code dispatches, and the
//! OpenAPI document are the same set. (No server needed.)

use std::collections::BTreeSet;

fn template_routes() -> BTreeSet<(String, String, String)> {
    let tpl = expenzez_local_api::template::load(&expenzez_store::schema::template_path()).unwrap();
    expenzez_local_api::template::routes(&tpl).into_iter().map(|r| (r.function, r.method, r.path)).collect()
}

fn code_routes() -> BTreeSet<(String, String, String)> {
    expenzez_api::routes::ROUTES
        .iter()
        .chain(expenzez_auth::routes::ROUTES)
        .chain(expenzez_banking::routes::all())
        .chain(expenzez_security::routes::ROUTES)
        .chain(expenzez_budgets::routes::ROUTES)
        .chain(expenzez_assistant::routes::ROUTES)
        .chain(expenzez_notify::ROUTES)
        .map(|(f, m, p)| (f.to_string(), m.to_string(), p.to_string()))
        .collect()
}

#[test]
fn template_and_code_route_the_same_functions() {
    let t = template_routes();
    assert_eq!(t, code_routes());
    assert_eq!(t.len(), 74);
}

#[test]
fn openapi_documents_exactly_the_routes() {
    let path = format!("{}/../lib/api/openapi.yaml", env!("CARGO_MANIFEST_DIR"));
    let doc: serde_yaml::Value = serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(doc["openapi"].as_str().map(|v| &v[..3]), Some("3.1"));
    let mut documented = BTreeSet::new();
    for (p, item) in doc["paths"].as_mapping().unwrap() {
        for (m, op) in item.as_mapping().unwrap() {
            let m = m.as_str().unwrap();
            if ["get", "put", "post", "delete", "patch"].contains(&m) {
                documented.insert((m.to_uppercase(), p.as_str().unwrap().to_string()));
                assert!(op["operationId"].is_string(), "{m} {p:?} has an operationId");
                assert!(op["responses"].as_mapping().is_some_and(|r| !r.is_empty()), "{m} {p:?} has responses");
            }
        }
    }
    let routed: BTreeSet<(String, String)> = template_routes().into_iter().map(|(_, m, p)| (m, p)).collect();
    assert_eq!(documented, routed);
}

#[test]
fn public_routes_are_only_the_sign_in_flows() {
    let tpl = expenzez_local_api::template::load(&expenzez_store::schema::template_path()).unwrap();
    let public: BTreeSet<String> =
        expenzez_local_api::template::routes(&tpl).into_iter().filter(|r| !r.authorized).map(|r| r.path).collect();
    assert!(public.iter().all(|p| p.starts_with("/auth/") && p != "/auth/delete-account"), "{public:?}");
    assert_eq!(public.len(), 9);
}

#[test]
fn each_main_serves_its_own_function_from_the_registry() {
    let tpl = expenzez_local_api::template::load(&expenzez_store::schema::template_path()).unwrap();
    let registry: BTreeSet<String> = code_routes().into_iter().map(|(f, _, _)| f).collect();
    let mut served = 0;
    for (name, r) in tpl["Resources"].as_mapping().unwrap() {
        let name = name.as_str().unwrap();
        if !registry.contains(name) {
            continue;
        }
        let binary = r["Metadata"]["BuildProperties"]["Binary"].as_str().unwrap();
        let path = format!("{}/../functions/{binary}/src/main.rs", env!("CARGO_MANIFEST_DIR"));
        let main = std::fs::read_to_string(&path).unwrap();
        // The function names itself once and leaves method, path and handler to the registry.
        assert!(main.contains(&format!("::serve(\"{name}\", ")), "{path} serves {name}");
        assert!(!main.contains("edge::run"), "{path} routes through the registry");
        served += 1;
    }
    assert_eq!(served, registry.len());
}

//! The route registry: each crate names its routes once, in one
//! [`routes!`](crate::routes) table (template resource, methods, path,
//! handler, the state it runs on). The table gives the crate's
//! `ROUTES` (checked against template.yaml and the OpenAPI document by
//! tests/routes.rs), its `dispatch` (the local API server runs every
//! function in-process through it), and `serve`, which a function's
//! `main.rs` calls with its template resource name.

/// One routed method: (template resource, method, path).
pub type Route = (&'static str, &'static str, &'static str);

/// Declares a crate's routes once:
///
/// ```ignore
/// expenzez_api::routes! {
///     state(table: &Table);
///     GetProfileFunction: GET "/profile" => profile::get(table),
///     ListBankAccountsFunction: GET | POST "/banking/accounts" => handlers::accounts::list(table),
/// }
/// ```
///
/// Generics of the state go in brackets: `state[P: BankProvider + 'static](b: &Banking<P>);`.
/// Each route names the handler and the state value it is given (`table`,
/// or a part of the state, e.g. `&b.table`). Generates:
/// - `pub const ROUTES: &[Route]`, one row per method;
/// - `pub async fn dispatch(function, state, req) -> Option<Response<Body>>`
///   (`None` for a function not in the table);
/// - `pub async fn serve(function, state) -> Result<(), lambda_http::Error>`:
///   a Lambda's main loop for one function (refuses at cold start a name not in the table).
#[macro_export]
macro_rules! routes {
    (
        state $([$($generics:tt)*])? ($state:ident : $state_ty:ty);
        $( $function:ident : $method:ident $(| $more:ident)* $path:literal => $h:ident $(:: $hs:ident)* ($given:expr) ),+ $(,)?
    ) => {
        /// (template resource, method, path), one row per routed method.
        pub const ROUTES: &[$crate::registry::Route] = &[
            $( (stringify!($function), stringify!($method), $path), $( (stringify!($function), stringify!($more), $path), )* )+
        ];

        /// Runs the handler of template resource `function`; `None` if it is not one of [`ROUTES`].
        pub async fn dispatch $(<$($generics)*>)? (
            function: &str,
            $state: $state_ty,
            req: $crate::lambda_http::Request,
        ) -> Option<$crate::lambda_http::Response<$crate::lambda_http::Body>> {
            Some(match function {
                $( stringify!($function) => {
                    $crate::edge::run(concat!(stringify!($method), $("|", stringify!($more),)* " ", $path), $given, req, $h $(:: $hs)*).await
                } )+
                _ => return None,
            })
        }

        /// The Lambda main loop of template resource `function` (one of [`ROUTES`]).
        pub async fn serve $(<$($generics)*>)? (function: &'static str, $state: $state_ty) -> Result<(), $crate::lambda_http::Error> {
            if !ROUTES.iter().any(|r| r.0 == function) {
                return Err(format!("{function} is not a route of this crate").into());
            }
            $crate::lambda_http::run($crate::lambda_http::service_fn(move |req| async move {
                match dispatch(function, $state, req).await {
                    Some(response) => Ok::<_, std::convert::Infallible>(response),
                    None => unreachable!("checked at start"),
                }
            }))
            .await
        }
    };
}

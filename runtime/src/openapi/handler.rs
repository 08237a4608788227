//! Handlers that document themselves: what each argument type
//! ([`OperationInput`]) and result type ([`OperationOutput`]) adds to an
//! [`Operation`], read by [`App::handle`](crate::App::handle).

use schemars::JsonSchema;

use super::Operation;

/// A handler argument that documents itself: [`App::handle`](crate::App::handle)
/// reads every argument's description into the operation, so a handler taking
/// [`CurrentUser`](crate::auth::CurrentUser) is documented as needing a token,
/// and one taking `Json<T>` as having a `T` body, with no annotation.
pub trait OperationInput {
    /// Adds what this argument means to `operation`.
    fn describe(operation: Operation) -> Operation {
        operation
    }
}

/// A handler's return type that documents its success response.
pub trait OperationOutput {
    /// Adds the success response to `operation`.
    fn describe(operation: Operation) -> Operation {
        operation.response_without_body(200, "Successful response")
    }
}

impl OperationInput for crate::auth::CurrentUser {
    fn describe(operation: Operation) -> Operation {
        operation.requires_auth()
    }
}

impl<P: crate::auth::PermissionCode> OperationInput for crate::auth::Perm<P> {
    fn describe(operation: Operation) -> Operation {
        let text = format!("Needs the permission `{}`.", P::CODE);
        let operation = operation.requires_auth();
        match operation.description_text() {
            Some(existing) if existing.contains(&text) => operation,
            Some(existing) => {
                let description = format!("{existing}\n\n{text}");
                operation.description(description)
            }
            None => operation.description(text),
        }
    }
}

impl OperationInput for crate::auth::OptionalUser {
    fn describe(operation: Operation) -> Operation {
        operation.optional_auth()
    }
}

/// Documents the path parameters with `T`'s types, and a 404: a path names
/// a resource, and one that does not exist is not found.
impl<T: JsonSchema> OperationInput for axum::extract::Path<T> {
    fn describe(operation: Operation) -> Operation {
        operation.path_params::<T>().error_response(404)
    }
}

impl<T: JsonSchema> OperationInput for axum::Json<T> {
    fn describe(operation: Operation) -> Operation {
        operation.request_body::<T>()
    }
}

impl<T: JsonSchema> OperationInput for axum::Form<T> {
    fn describe(operation: Operation) -> Operation {
        operation.form_body::<T>()
    }
}

impl<T: JsonSchema + crate::schema::FromJsonBody> OperationInput for crate::schema::JsonBody<T> {
    fn describe(operation: Operation) -> Operation {
        operation.request_body::<T>()
    }
}

macro_rules! undocumented_inputs {
    ($($ty:ty $(where $($param:ident),*)?;)*) => {
        $(impl$(<$($param),*>)? OperationInput for $ty {})*
    };
}

undocumented_inputs! {
    crate::db::Db;
    axum::extract::State<T> where T;
    axum::extract::Query<T> where T;
    axum::extract::RawQuery;
    axum::extract::Extension<T> where T;
    axum::http::HeaderMap;
    axum::http::Method;
    axum::http::Uri;
    axum::body::Bytes;
    axum::extract::Request;
    String;
    crate::schema::DeferredJson;
}

impl<T: JsonSchema> OperationOutput for axum::Json<T> {
    fn describe(operation: Operation) -> Operation {
        operation.response::<T>(200, "Successful response")
    }
}

impl<T: OperationOutput> OperationOutput for Result<T, crate::error::ApiError> {
    fn describe(operation: Operation) -> Operation {
        T::describe(operation)
    }
}

impl OperationOutput for axum::http::StatusCode {}
impl OperationOutput for axum::response::Response {}
impl OperationOutput for String {}
impl OperationOutput for &'static str {}
impl OperationOutput for () {}

/// Handlers whose arguments and result document themselves, for
/// [`App::handle`](crate::App::handle). Implemented for async functions of
/// up to eight arguments that all implement [`OperationInput`].
pub trait DocumentedHandler<Args> {
    /// `operation` completed with every argument's and the result's description.
    fn describe(operation: Operation) -> Operation;
}

macro_rules! documented_handler {
    ($($arg:ident),*) => {
        impl<F, Fut, $($arg,)*> DocumentedHandler<($($arg,)*)> for F
        where
            F: FnOnce($($arg),*) -> Fut,
            Fut: std::future::Future,
            Fut::Output: OperationOutput,
            $($arg: OperationInput,)*
        {
            fn describe(operation: Operation) -> Operation {
                $(let operation = <$arg as OperationInput>::describe(operation);)*
                <Fut::Output as OperationOutput>::describe(operation)
            }
        }
    };
}

documented_handler!();
documented_handler!(A1);
documented_handler!(A1, A2);
documented_handler!(A1, A2, A3);
documented_handler!(A1, A2, A3, A4);
documented_handler!(A1, A2, A3, A4, A5);
documented_handler!(A1, A2, A3, A4, A5, A6);
documented_handler!(A1, A2, A3, A4, A5, A6, A7);
documented_handler!(A1, A2, A3, A4, A5, A6, A7, A8);

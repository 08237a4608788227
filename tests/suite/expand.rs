//! Snapshots of what `#[derive(Model)]` generates for the blog's models, so
//! every change to the generated code is reviewed (`cargo insta review`).

use std::path::Path;

fn expand_models_of(path: &Path) -> Vec<(String, String)> {
    let source = std::fs::read_to_string(path).expect("read models");
    let file = syn::parse_file(&source).expect("parse models");
    file.items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Struct(item) => Some(item),
            _ => None,
        })
        .map(|item| {
            let input: syn::DeriveInput = syn::parse_quote!(#item);
            let tokens = ferrobridge_codegen::expand_model(&input);
            let file: syn::File = syn::parse2(tokens).expect("generated code parses");
            (item.ident.to_string(), prettyplease::unparse(&file))
        })
        .collect()
}

#[test]
fn blog_models_expansion() {
    let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/blog/src/models.rs");
    let expanded = expand_models_of(&models);
    assert_eq!(expanded.len(), 2, "Author and Post");
    for (name, code) in expanded {
        insta::assert_snapshot!(format!("blog_{name}"), code);
    }
}

#[test]
fn permissions_models_expansion() {
    let models =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/permissions/src/models.rs");
    let expanded = expand_models_of(&models);
    assert_eq!(expanded.len(), 2, "ContentType and Permission");
    for (name, code) in expanded {
        insta::assert_snapshot!(format!("permissions_{name}"), code);
    }
}

/// A model with raw field names, a raw foreign key and a keyword struct
/// name (`Where` -> `mod r#where`), from the raw-names tests.
#[test]
fn raw_names_expansion() {
    let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("suite/raw_names.rs");
    let (_, code) = expand_models_of(&models)
        .into_iter()
        .find(|(name, _)| name == "Where")
        .expect("struct Where");
    insta::assert_snapshot!("raw_names_Where", code);
}

/// A refused model: its errors, then the stand-ins that keep its uses quiet.
#[test]
fn failed_derive_expansion() {
    let input: syn::DeriveInput = syn::parse_quote! {
        #[derive(Model)]
        #[model(app = "blog")]
        pub struct Post<T> {
            #[field(primary_key)]
            pub id: i64,
            pub body: T,
        }
    };
    let tokens = ferrobridge_codegen::expand_model(&input);
    let file: syn::File = syn::parse2(tokens).expect("generated code parses");
    insta::assert_snapshot!("failed_Post", prettyplease::unparse(&file));
}

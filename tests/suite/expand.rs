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

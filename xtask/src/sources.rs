//! Finds the structs deriving `Model` in a crate by following its module
//! tree from the crate root, as rustc would, so every model has its real
//! module path (`notes::models::Note`) and file.

use std::path::{Path, PathBuf};

use crate::project::{Target, parse_file};

/// A struct with `#[derive(Model)]` found in the sources.
#[derive(Clone)]
pub struct FoundModel {
    /// The crate target it belongs to.
    pub target: Target,
    /// Its module path inside the crate, without the crate name.
    pub module: Vec<String>,
    /// The file it is written in.
    pub file: PathBuf,
    /// The struct itself.
    pub item: syn::ItemStruct,
    /// `#[model(app = "...")]`, when written as a plain string.
    pub app_label: Option<String>,
}

impl FoundModel {
    /// The struct's name.
    pub fn name(&self) -> String {
        self.item.ident.to_string()
    }

    /// `crate_name::module::Struct`, for messages and candidate lists.
    pub fn path(&self) -> String {
        let mut parts = vec![self.target.name.replace('-', "_")];
        parts.extend(self.module.iter().cloned());
        parts.push(self.name());
        parts.join("::")
    }
}

/// Every model reachable from `target`'s crate root. Files that do not parse
/// are an error: a model hidden in them would silently be missed.
pub fn models_in(target: &Target) -> anyhow::Result<Vec<FoundModel>> {
    let mut found = Vec::new();
    let (_, file) = parse_file(&target.root)?;
    let dir = target.root.parent().unwrap_or(Path::new(".")).to_path_buf();
    walk(
        target,
        &file.items,
        &target.root,
        &dir,
        &mut Vec::new(),
        &mut found,
    )?;
    Ok(found)
}

/// `dir` is where the children of the current module live (`src/` for a
/// crate root or a `mod.rs`, `src/a/` for `src/a.rs`).
fn walk(
    target: &Target,
    items: &[syn::Item],
    file: &Path,
    dir: &Path,
    module: &mut Vec<String>,
    found: &mut Vec<FoundModel>,
) -> anyhow::Result<()> {
    for item in items {
        match item {
            syn::Item::Struct(item) if derives_model(&item.attrs) => found.push(FoundModel {
                target: target.clone(),
                module: module.clone(),
                file: file.to_path_buf(),
                item: item.clone(),
                app_label: app_label(&item.attrs),
            }),
            syn::Item::Mod(item) if !is_cfg_test(&item.attrs) => {
                let name = item.ident.to_string();
                module.push(name.clone());
                match &item.content {
                    Some((_, inner)) => {
                        walk(target, inner, file, &dir.join(&name), module, found)?;
                    }
                    None => {
                        let child = match path_attr(&item.attrs) {
                            Some(path) => dir.join(path),
                            None if dir.join(format!("{name}.rs")).exists() => {
                                dir.join(format!("{name}.rs"))
                            }
                            None => dir.join(&name).join("mod.rs"),
                        };
                        if child.exists() {
                            let (_, parsed) = parse_file(&child)?;
                            let child_dir = if child.file_name().is_some_and(|f| f == "mod.rs")
                                || path_attr(&item.attrs).is_some()
                            {
                                child.parent().unwrap_or(dir).to_path_buf()
                            } else {
                                dir.join(&name)
                            };
                            walk(target, &parsed.items, &child, &child_dir, module, found)?;
                        }
                    }
                }
                module.pop();
            }
            _ => {}
        }
    }
    Ok(())
}

/// `#[derive(..., Model, ...)]`, by the derive's last path segment so
/// `ferrobridge::Model` counts too.
pub fn derives_model(attrs: &[syn::Attribute]) -> bool {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("derive"))
        .any(|a| {
            let mut yes = false;
            let _ = a.parse_nested_meta(|meta| {
                if meta
                    .path
                    .segments
                    .last()
                    .is_some_and(|s| s.ident == "Model")
                {
                    yes = true;
                }
                Ok(())
            });
            yes
        })
}

fn app_label(attrs: &[syn::Attribute]) -> Option<String> {
    let mut label = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("model")) {
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("app") {
                let lit: syn::LitStr = meta.value()?.parse()?;
                label = Some(lit.value());
            } else if meta.input.peek(syn::Token![=]) {
                let _: syn::Expr = meta.value()?.parse()?;
            }
            Ok(())
        });
    }
    label
}

fn path_attr(attrs: &[syn::Attribute]) -> Option<String> {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("path"))
        .find_map(|a| match &a.meta {
            syn::Meta::NameValue(nv) => match &nv.value {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) => Some(s.value()),
                _ => None,
            },
            _ => None,
        })
}

fn is_cfg_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg")
            && a.parse_args::<syn::Ident>()
                .is_ok_and(|ident| ident == "test")
    })
}

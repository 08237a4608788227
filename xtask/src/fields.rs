//! `name:type[:option...]` field specifications of `cargo xtask scaffold model`,
//! turned into `#[field(...)]` attributes the derive accepts.
//!
//! Types and options are spelled exactly as `#[derive(Model)]` names them, so
//! what a user learns here is what they write by hand later.

use anyhow::{anyhow, bail};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

/// The field types scaffold accepts, each with a note on what it becomes
/// (empty when it is the Rust type of the same name).
pub const TYPES: &[(&str, &str)] = &[
    ("i16", ""),
    ("i32", ""),
    ("i64", ""),
    ("f32", ""),
    ("f64", ""),
    ("bool", ""),
    ("String", ""),
    ("text", "a String stored as TEXT"),
    ("Decimal", "needs max_digits= and decimal_places="),
    ("NaiveDate", ""),
    ("DateTimeUtc", ""),
    ("Uuid", ""),
    ("Json", "serde_json::Value"),
];

/// Options without a value.
pub const FLAGS: &[&str] = &[
    "null",
    "optional",
    "primary_key",
    "unique",
    "index",
    "text",
    "read_only",
    "write_only",
    "auto_now",
    "auto_now_add",
    "email",
    "url",
    "password",
];

/// Options written `key=value`.
pub const VALUED: &[&str] = &[
    "max_length",
    "min_length",
    "min_value",
    "max_value",
    "default",
    "references",
    "on_delete",
    "regex",
    "max_digits",
    "decimal_places",
    "write_perm",
];

/// The actions `on_delete=` accepts.
pub const ON_DELETE: &[&str] = &["cascade", "set_null", "restrict"];

/// The type of a scaffolded field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldType {
    /// `i16`
    I16,
    /// `i32`
    I32,
    /// `i64`
    I64,
    /// `f32`
    F32,
    /// `f64`
    F64,
    /// `bool`
    Bool,
    /// `String`
    String,
    /// `String` stored as TEXT.
    Text,
    /// `Decimal`
    Decimal,
    /// `NaiveDate`
    NaiveDate,
    /// `DateTimeUtc`
    DateTimeUtc,
    /// `Uuid`
    Uuid,
    /// `serde_json::Value`
    Json,
}

impl FieldType {
    fn parse(name: &str) -> Option<FieldType> {
        Some(match name {
            "i16" => FieldType::I16,
            "i32" => FieldType::I32,
            "i64" => FieldType::I64,
            "f32" => FieldType::F32,
            "f64" => FieldType::F64,
            "bool" => FieldType::Bool,
            "String" => FieldType::String,
            "text" => FieldType::Text,
            "Decimal" => FieldType::Decimal,
            "NaiveDate" => FieldType::NaiveDate,
            "DateTimeUtc" => FieldType::DateTimeUtc,
            "Uuid" => FieldType::Uuid,
            "Json" => FieldType::Json,
            _ => return None,
        })
    }

    /// The Rust type as written in the model file; every name but
    /// `serde_json::Value` comes from `ferrobridge::prelude`.
    pub fn rust_type(self) -> TokenStream {
        match self {
            FieldType::I16 => quote!(i16),
            FieldType::I32 => quote!(i32),
            FieldType::I64 => quote!(i64),
            FieldType::F32 => quote!(f32),
            FieldType::F64 => quote!(f64),
            FieldType::Bool => quote!(bool),
            FieldType::String | FieldType::Text => quote!(String),
            FieldType::Decimal => quote!(Decimal),
            FieldType::NaiveDate => quote!(NaiveDate),
            FieldType::DateTimeUtc => quote!(DateTimeUtc),
            FieldType::Uuid => quote!(Uuid),
            FieldType::Json => quote!(serde_json::Value),
        }
    }

    fn is_integer(self) -> bool {
        matches!(self, FieldType::I16 | FieldType::I32 | FieldType::I64)
    }

    fn is_float(self) -> bool {
        matches!(self, FieldType::F32 | FieldType::F64)
    }
}

/// One option of a field, as given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldOption {
    /// The key, one of [`FLAGS`] or [`VALUED`].
    pub key: String,
    /// The text after `=`, for [`VALUED`] keys.
    pub value: Option<String>,
}

/// A parsed `name:type[:option...]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldSpec {
    /// The field's name, a snake_case Rust identifier.
    pub name: String,
    /// Its type.
    pub ty: FieldType,
    /// Its options, in the order given.
    pub options: Vec<FieldOption>,
}

/// Every type and option, as the errors for unknown ones list them.
pub fn help_text() -> String {
    let types: Vec<String> = TYPES
        .iter()
        .map(|(name, note)| {
            if note.is_empty() {
                (*name).to_string()
            } else {
                format!("{name} ({note})")
            }
        })
        .collect();
    format!(
        "types: {}\noptions (null or optional makes an Option<T>): {}, {}",
        types.join(", "),
        FLAGS.join(", "),
        VALUED
            .iter()
            .map(|k| format!("{k}=..."))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

impl FieldSpec {
    /// Parses `title:String:max_length=200:unique`.
    pub fn parse(spec: &str) -> anyhow::Result<FieldSpec> {
        let mut parts = spec.split(':');
        let name = parts.next().unwrap_or_default();
        let Some(ty) = parts.next() else {
            bail!(
                "`{spec}`: write a field as name:type[:option...], e.g. title:String:max_length=200"
            );
        };
        check_field_name(name)?;
        let ty = FieldType::parse(ty).ok_or_else(|| {
            let names: Vec<&str> = TYPES.iter().map(|(n, _)| *n).collect();
            anyhow!(
                "`{spec}`: unknown type `{ty}`; valid types: {}",
                names.join(", ")
            )
        })?;
        let mut options = Vec::new();
        for option in parts {
            let (key, value) = match option.split_once('=') {
                Some((key, value)) => (key, Some(value.to_string())),
                None => (option, None),
            };
            if key == "choices" {
                bail!(
                    "`{spec}`: `choices` needs a #[derive(Choices)] enum, which scaffold does not write; scaffold the field as String, then write the enum and mark the field #[field(choices)]"
                );
            }
            let flag = FLAGS.contains(&key);
            let valued = VALUED.contains(&key);
            if !flag && !valued {
                bail!(
                    "`{spec}`: unknown option `{key}`; valid options: {}, {}",
                    FLAGS.join(", "),
                    VALUED
                        .iter()
                        .map(|k| format!("{k}=..."))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            match (&value, flag) {
                (Some(_), true) => bail!("`{spec}`: `{key}` takes no value: write `:{key}`"),
                (None, false) => bail!("`{spec}`: `{key}` needs a value: write `:{key}=...`"),
                (Some(v), false) if v.is_empty() => {
                    bail!("`{spec}`: `{key}=` needs a value after `=`")
                }
                _ => {}
            }
            if options.iter().any(|o: &FieldOption| o.key == key) {
                bail!("`{spec}`: `{key}` is given twice");
            }
            if key == "on_delete" {
                let action = value.as_deref().unwrap_or_default();
                if !ON_DELETE.contains(&action) {
                    bail!(
                        "`{spec}`: unknown on_delete action `{action}`; valid actions: {}",
                        ON_DELETE.join(", ")
                    );
                }
            }
            options.push(FieldOption {
                key: key.to_string(),
                value,
            });
        }
        let spec = FieldSpec {
            name: name.to_string(),
            ty,
            options,
        };
        // Values are checked now (numbers, defaults), not when written.
        spec.to_tokens()?;
        Ok(spec)
    }

    /// The value of option `key`, when given.
    pub fn option(&self, key: &str) -> Option<&str> {
        self.options
            .iter()
            .find(|o| o.key == key)
            .map(|o| o.value.as_deref().unwrap_or(""))
    }

    /// `null` or `optional`: the field is `Option<T>`.
    pub fn nullable(&self) -> bool {
        self.option("null").is_some() || self.option("optional").is_some()
    }

    /// The model this field references, from `references=Model`.
    pub fn references(&self) -> Option<&str> {
        self.option("references")
    }

    /// The field as written in the struct: doc-less, with its `#[field(...)]`.
    pub fn to_tokens(&self) -> anyhow::Result<TokenStream> {
        let name = format_ident!("{}", self.name);
        let base = self.ty.rust_type();
        let ty = if self.nullable() {
            quote!(Option<#base>)
        } else {
            base
        };
        let mut keys = Vec::new();
        if self.ty == FieldType::Text {
            keys.push(quote!(text));
        }
        for option in &self.options {
            let key = format_ident!("{}", option.key);
            match (option.key.as_str(), option.value.as_deref()) {
                ("null" | "optional", _) => {}
                ("text", _) if self.ty == FieldType::Text => {}
                (_, None) => keys.push(quote!(#key)),
                (_, Some(value)) => {
                    let value = self.option_value(&option.key, value)?;
                    keys.push(quote!(#key = #value));
                }
            }
        }
        let attr = (!keys.is_empty()).then(|| quote!(#[field(#(#keys),*)]));
        Ok(quote! {
            #attr
            pub #name: #ty
        })
    }

    fn option_value(&self, key: &str, value: &str) -> anyhow::Result<TokenStream> {
        let spec = format!("{}:{key}={value}", self.name);
        Ok(match key {
            "max_length" | "min_length" | "max_digits" | "decimal_places" => {
                let n: u32 = value.parse().map_err(|_| {
                    anyhow!("`{spec}`: `{key}` takes a whole number, e.g. {key}=10")
                })?;
                let lit = proc_macro2::Literal::u32_unsuffixed(n);
                quote!(#lit)
            }
            "min_value" | "max_value" => self.number(&spec, value)?,
            "default" => match self.ty {
                FieldType::Bool => match value {
                    "true" => quote!(true),
                    "false" => quote!(false),
                    _ => bail!("`{spec}`: a bool's default is true or false"),
                },
                t if t.is_integer() || t.is_float() => self.number(&spec, value)?,
                FieldType::String | FieldType::Text => {
                    let text = value
                        .strip_prefix('"')
                        .and_then(|v| v.strip_suffix('"'))
                        .unwrap_or(value);
                    quote!(#text)
                }
                _ => bail!(
                    "`{spec}`: `default` fits bool, number and String fields; for a time use auto_now_add, otherwise make the field `null`"
                ),
            },
            "references" => {
                let path: syn::Path = syn::parse_str(value).map_err(|_| {
                    anyhow!("`{spec}`: `references` names a model, e.g. references=Author")
                })?;
                quote!(#path)
            }
            // The derive checks the value (`write_perm = "change"`).
            "on_delete" | "regex" | "write_perm" => quote!(#value),
            _ => unreachable!("every valued key is handled: {key}"),
        })
    }

    /// A number literal of the field's kind: floats keep a decimal point, as
    /// the derive wants a float literal on a float field.
    fn number(&self, spec: &str, value: &str) -> anyhow::Result<TokenStream> {
        let (negative, digits) = match value.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, value),
        };
        let lit = if self.ty.is_float() {
            let n: f64 = digits
                .parse()
                .map_err(|_| anyhow!("`{spec}`: expected a number"))?;
            proc_macro2::Literal::f64_unsuffixed(n)
        } else {
            let n: u64 = digits
                .parse()
                .map_err(|_| anyhow!("`{spec}`: expected a whole number"))?;
            proc_macro2::Literal::u64_unsuffixed(n)
        };
        Ok(if negative {
            quote!(-#lit)
        } else {
            quote!(#lit)
        })
    }
}

fn check_field_name(name: &str) -> anyhow::Result<()> {
    if !is_snake_ident(name) {
        bail!(
            "`{name}` is not a field name: use snake_case letters, digits and `_`, e.g. published_at"
        );
    }
    if syn::parse_str::<syn::Ident>(name).is_err() {
        bail!("`{name}` is a Rust keyword: choose another field name");
    }
    Ok(())
}

/// `snake_case`: lower-case ASCII letters, digits and `_`, not starting with a digit.
pub fn is_snake_ident(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && name != "_"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_derive_field_key_is_an_option_except_choices() {
        for key in ferrobridge_codegen::attr::FIELD_KEYS {
            assert!(
                *key == "choices" || FLAGS.contains(key) || VALUED.contains(key),
                "scaffold does not accept `{key}`"
            );
        }
    }

    #[test]
    fn float_bounds_keep_a_decimal_point() {
        let spec = FieldSpec::parse("rating:f64:min_value=0:max_value=5:null").unwrap();
        let tokens = spec.to_tokens().unwrap().to_string();
        assert!(tokens.contains("min_value = 0.0"), "{tokens}");
        assert!(tokens.contains("Option < f64 >"), "{tokens}");
    }
}

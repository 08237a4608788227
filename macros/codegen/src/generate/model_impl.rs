//! `impl ferrobridge::Model`: the metadata the runtime reads (app label,
//! names, fields, ordering) and the moves between request types and rows.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};

use super::schemas::{SchemaNames, default_value, patchable_fields, writable_fields};
use crate::ast::{FieldDef, ModelDef, OnDelete, ScalarKind};

fn column_ident(field: &FieldDef) -> syn::Ident {
    super::entity::column_variant(field)
}

fn field_meta(model: &ModelDef, field: &FieldDef) -> TokenStream {
    let name = field.name();
    let read_as = match model
        .read_fields()
        .into_iter()
        .find(|(_, f)| f.ident == field.ident)
    {
        Some((key, _)) => {
            let key = crate::ast::name_of(&key);
            quote!(::core::option::Option::Some(#key))
        }
        None => quote!(::core::option::Option::None),
    };
    let variant = format_ident!("{}", field.kind.expect("checked").runtime_variant());
    let nullable = field.nullable;
    let o = &field.options;
    let primary_key = o.primary_key.is_some();
    let unique = o.unique.is_some();
    let read_only = field.is_server_set();
    let write_only = field.is_secret();
    let text = o.text.is_some();
    let opt_u64 = |v: &Option<(proc_macro2::Span, syn::LitInt)>| match v {
        Some((_, lit)) => quote!(::core::option::Option::Some(#lit)),
        None => quote!(::core::option::Option::None),
    };
    let max_length = opt_u64(&o.max_length);
    let min_length = opt_u64(&o.min_length);
    let help_text = match &field.docs {
        Some(doc) => quote!(::core::option::Option::Some(#doc)),
        None => quote!(::core::option::Option::None),
    };
    let references = match &o.references {
        Some((_, path)) => {
            let alias = super::entity::alias_ident(model, field);
            let meta = quote_spanned!(syn::spanned::Spanned::span(path)=> <#alias as ::ferrobridge::Model>::meta);
            quote!(::core::option::Option::Some(#meta))
        }
        None => quote!(::core::option::Option::None),
    };
    let (choices, choice_labels) = if field.kind == Some(crate::ast::ScalarKind::Choice) {
        let inner = &field.inner;
        (
            quote!(<#inner as ::ferrobridge::Choices>::VARIANTS),
            quote!(<#inner as ::ferrobridge::Choices>::LABELS),
        )
    } else {
        (quote!(&[]), quote!(&[]))
    };
    let pattern = match &o.regex {
        Some((_, lit)) => quote!(::core::option::Option::Some(#lit)),
        None => quote!(::core::option::Option::None),
    };
    let format = if o.email.is_some() {
        quote!(::core::option::Option::Some("email"))
    } else if o.url.is_some() {
        quote!(::core::option::Option::Some("uri"))
    } else {
        quote!(::core::option::Option::None)
    };
    let as_f64 = |v: &Option<(proc_macro2::Span, syn::Lit)>| match v {
        Some((_, syn::Lit::Int(i))) => {
            let f = syn::LitFloat::new(&format!("{}.0", i.base10_digits()), i.span());
            quote!(::core::option::Option::Some(#f))
        }
        Some((_, lit)) => quote!(::core::option::Option::Some(#lit)),
        None => quote!(::core::option::Option::None),
    };
    let min_value = as_f64(&o.min_value);
    let max_value = as_f64(&o.max_value);
    let db_type = db_type(field);
    // Foreign keys are indexed too, as SeaORM's entity and Django do it.
    let index = o.index.is_some() || o.references.is_some();
    let default = field_default(field);
    let on_delete = match o.on_delete.as_ref().map(|(_, action, _)| *action) {
        Some(OnDelete::Cascade) => quote!(Cascade),
        Some(OnDelete::SetNull) => quote!(SetNull),
        Some(OnDelete::Restrict) | None => quote!(Restrict),
    };
    let auto_increment = field.is_auto_increment();
    let password = o.password.is_some();
    // `check` admits only "change".
    let write_perm = match &o.write_perm {
        Some(_) => quote!(::core::option::Option::Some(
            ::ferrobridge::model::Action::Change
        )),
        None => quote!(::core::option::Option::None),
    };
    quote! {
        ::ferrobridge::model::FieldMeta {
            name: #name,
            kind: ::ferrobridge::model::FieldKind::#variant,
            nullable: #nullable,
            primary_key: #primary_key,
            unique: #unique,
            read_only: #read_only,
            write_only: #write_only,
            password: #password,
            write_perm: #write_perm,
            read_as: #read_as,
            text: #text,
            max_length: #max_length,
            min_length: #min_length,
            help_text: #help_text,
            references: #references,
            choices: #choices,
            choice_labels: #choice_labels,
            pattern: #pattern,
            format: #format,
            min_value: #min_value,
            max_value: #max_value,
            db_type: #db_type,
            index: #index,
            default: #default,
            on_delete: ::ferrobridge::model::OnDelete::#on_delete,
            auto_increment: #auto_increment,
        }
    }
}

/// The column type migrations create for `field` (`DbType::String(Some(200))`).
fn db_type(field: &FieldDef) -> TokenStream {
    let o = &field.options;
    let variant = match field.kind.expect("checked") {
        ScalarKind::I16 => quote!(SmallInteger),
        ScalarKind::I32 => quote!(Integer),
        ScalarKind::I64 => quote!(BigInteger),
        ScalarKind::F32 => quote!(Float),
        ScalarKind::F64 => quote!(Double),
        ScalarKind::Bool => quote!(Boolean),
        ScalarKind::String if o.text.is_some() => quote!(Text),
        ScalarKind::String => match &o.max_length {
            Some((_, max)) => {
                let max = syn::LitInt::new(max.base10_digits(), max.span());
                quote!(String(::core::option::Option::Some(#max)))
            }
            None => quote!(String(::core::option::Option::None)),
        },
        // Choices are stored as their strings, in a VARCHAR without length
        // (what the `Choices` derive tells SeaORM).
        ScalarKind::Choice => quote!(String(::core::option::Option::None)),
        ScalarKind::Decimal => {
            let digits = o
                .max_digits
                .as_ref()
                .map(|(_, l)| l.base10_digits().to_string());
            let places = o
                .decimal_places
                .as_ref()
                .map(|(_, l)| l.base10_digits().to_string());
            let digits = syn::LitInt::new(
                digits.as_deref().unwrap_or("28"),
                proc_macro2::Span::call_site(),
            );
            let places = syn::LitInt::new(
                places.as_deref().unwrap_or("0"),
                proc_macro2::Span::call_site(),
            );
            quote!(Decimal(#digits, #places))
        }
        ScalarKind::Date => quote!(Date),
        ScalarKind::DateTimeUtc => quote!(DateTime),
        ScalarKind::Uuid => quote!(Uuid),
        ScalarKind::Json => quote!(Json),
    };
    quote!(::ferrobridge::model::DbType::#variant)
}

/// The column default of `field`: its literal, or the stored string of a
/// choices field's default variant.
fn field_default(field: &FieldDef) -> TokenStream {
    let value = match (&field.options.default, &field.options.default_variant) {
        (Some((_, syn::Lit::Bool(b))), _) => quote!(Bool(#b)),
        (Some((_, syn::Lit::Int(i))), _) => {
            let i = syn::LitInt::new(i.base10_digits(), i.span());
            quote!(Int(#i))
        }
        (Some((_, syn::Lit::Float(f))), _) => {
            let f = syn::LitFloat::new(f.base10_digits(), f.span());
            quote!(Float(#f))
        }
        (Some((_, syn::Lit::Str(s))), _) => quote!(Str(#s)),
        (Some(_), _) | (None, None) => return quote!(::core::option::Option::None),
        (None, Some((_, path))) => {
            let inner = &field.inner;
            quote!(Choice(|| <#inner as ::ferrobridge::Choices>::as_choice(&#path)))
        }
    };
    quote!(::core::option::Option::Some(::ferrobridge::model::FieldDefault::#value))
}

/// What is stored for a written value: a `password` field keeps only its hash.
fn stored(field: &FieldDef, value: TokenStream) -> TokenStream {
    if field.options.password.is_none() {
        value
    } else if field.nullable {
        quote!(#value.as_deref().map(::ferrobridge::auth::hash_password))
    } else {
        quote!(::ferrobridge::auth::hash_password(&#value))
    }
}

/// Generates the `Model` impl for the user's struct.
pub fn generate(model: &ModelDef) -> TokenStream {
    let ident = &model.ident;
    let module = super::entity::module_ident(model);
    let names = SchemaNames::of(model);
    let (create, update, read) = (&names.create, &names.update, &names.read);
    let pk = model.primary_key();
    let pk_name = &pk.ident;
    let pk_column = column_ident(pk);
    let pk_type = super::field_type(pk);

    let app = &model.app;
    let model_name = &model.model_name;
    let object_name = crate::ast::name_of(ident);
    let table = &model.table;
    let plural = &model.plural;
    let doc = model.docs.join(" ");
    let fields = model.fields.iter().map(|f| field_meta(model, f));
    let ordering = model.ordering.iter().map(|t| {
        let descending = t.descending;
        match &t.related {
            Some(related) => {
                let field = model
                    .relation(&t.field)
                    .map(|f| f.name())
                    .unwrap_or_else(|| t.field.clone());
                quote!(::ferrobridge::model::OrderingMeta {
                    field: #field,
                    related: ::core::option::Option::Some(#related),
                    descending: #descending,
                })
            }
            None => {
                let field = &t.field;
                quote!(::ferrobridge::model::OrderingMeta {
                    field: #field,
                    related: ::core::option::Option::None,
                    descending: #descending,
                })
            }
        }
    });
    let pagination = if model.api.unpaged {
        quote!(::ferrobridge::model::PaginationMode::Off)
    } else {
        quote!(::ferrobridge::model::PaginationMode::Paged)
    };
    let pk_str = pk.name();
    let names = |list: &[syn::Ident]| list.iter().map(crate::ast::name_of).collect::<Vec<_>>();
    let api_filter = names(&model.api.filter);
    let api_search = names(&model.api.search);
    let api_ordering = names(&model.api.ordering);
    let reject_unknown = !model.ignore_unknown_fields;
    let policy = match (
        &model.api.owner,
        model.api.policy.as_ref().map(|(_, p)| p.as_str()),
    ) {
        (None, None) if model.api.permissions_of.is_some() => {
            let parent = model.api.permissions_of.as_ref().map(crate::ast::name_of);
            quote!(::ferrobridge::model::Policy::PermissionsOf(#parent))
        }
        (Some(_), _) => quote!(::ferrobridge::model::Policy::Owner),
        (None, Some("authenticated")) => quote!(::ferrobridge::model::Policy::Authenticated),
        (None, Some("public_read")) => quote!(::ferrobridge::model::Policy::PublicRead),
        (None, Some("allow_any")) => quote!(::ferrobridge::model::Policy::AllowAny),
        _ => quote!(::ferrobridge::model::Policy::ModelPermissions),
    };
    let owner_name = match &model.api.owner {
        Some(owner) => {
            let name = crate::ast::name_of(owner);
            quote!(::core::option::Option::Some(#name))
        }
        None => quote!(::core::option::Option::None),
    };
    let own_rows_only = model.api.own_rows_only.is_some();
    let unique_together: Vec<Vec<String>> = model
        .unique_together
        .iter()
        .map(|group| group.iter().map(crate::ast::name_of).collect())
        .collect();
    let owner_fns = match model.api.owner.as_ref().and_then(|o| model.field(o)) {
        Some(field) => {
            let name = &field.ident;
            let (set_value, get_value) = if field.nullable {
                (
                    quote!(::core::option::Option::Some(user_id as _)),
                    quote!(row.#name.map(|id| id as i64)),
                )
            } else {
                (
                    quote!(user_id as _),
                    quote!(::core::option::Option::Some(row.#name as i64)),
                )
            };
            quote! {
                fn set_owner(active: &mut #module::ActiveModel, user_id: i64) {
                    active.#name = ::ferrobridge::__private::sea_orm::ActiveValue::Set(#set_value);
                }

                fn owner_of(row: &#module::Model) -> ::core::option::Option<i64> {
                    #get_value
                }
            }
        }
        None => quote!(),
    };

    let admin_meta = admin_meta(model);
    let display_fn = display_fn(model);

    // Bodies below `use` these names, so each assignment reads as one line.
    let now = quote!(now);
    let set = quote!(Set);
    let not_set = quote!(NotSet);
    let uses_now = model
        .fields
        .iter()
        .any(|f| f.options.auto_now.is_some() || f.options.auto_now_add.is_some());
    let insert_now = if uses_now {
        quote!(let now = ::ferrobridge::__private::chrono::Utc::now();)
    } else {
        quote!()
    };
    let update_now = if model.fields.iter().any(|f| f.options.auto_now.is_some()) {
        quote!(let now = ::ferrobridge::__private::chrono::Utc::now();)
    } else {
        quote!()
    };
    let uses_not_set = model.fields.iter().any(|f| {
        !writable_fields(model).any(|w| w.ident == f.ident)
            && f.options.auto_now.is_none()
            && f.options.auto_now_add.is_none()
            && !f.has_default()
            && !f.is_generated_uuid()
    });
    let active_value_use = if uses_not_set {
        quote!(
            use ::ferrobridge::__private::sea_orm::ActiveValue::{NotSet, Set};
        )
    } else {
        quote!(
            use ::ferrobridge::__private::sea_orm::ActiveValue::Set;
        )
    };

    let writable: Vec<&syn::Ident> = writable_fields(model).map(|f| &f.ident).collect();
    let insert_values = model.fields.iter().map(|f| {
        let name = &f.ident;
        let o = &f.options;
        let value = if o.auto_now.is_some() || o.auto_now_add.is_some() {
            let now = if f.nullable {
                quote!(::core::option::Option::Some(#now))
            } else {
                now.clone()
            };
            quote!(#set(#now))
        } else if f.is_generated_uuid() {
            quote!(#set(::ferrobridge::__private::uuid::Uuid::new_v4()))
        } else if writable.contains(&name) {
            let value = stored(f, quote!(input.#name));
            quote!(#set(#value))
        } else if let Some(value) = default_value(f) {
            quote!(#set(#value))
        } else {
            quote!(#not_set)
        };
        quote!(#name: #value)
    });
    let replace_values: Vec<TokenStream> = model
        .fields
        .iter()
        .filter_map(|f| {
            let name = &f.ident;
            if f.options.auto_now.is_some() {
                let now = if f.nullable {
                    quote!(::core::option::Option::Some(#now))
                } else {
                    now.clone()
                };
                Some(quote!(active.#name = #set(#now);))
            } else if writable.contains(&name) && f.options.primary_key.is_none() {
                let value = stored(f, quote!(input.#name));
                Some(quote!(active.#name = #set(#value);))
            } else {
                None
            }
        })
        .collect();
    let patch_values: Vec<TokenStream> = patchable_fields(model)
        .map(|f| {
            let name = &f.ident;
            let patched = stored(f, quote!(value));
            quote! {
                if let ::core::option::Option::Some(value) = input.#name {
                    active.#name = #set(#patched);
                }
            }
        })
        .collect();
    let touch: Vec<TokenStream> = model
        .fields
        .iter()
        .filter(|f| f.options.auto_now.is_some())
        .map(|f| {
            let name = &f.ident;
            let now = if f.nullable {
                quote!(::core::option::Option::Some(#now))
            } else {
                now.clone()
            };
            quote!(active.#name = #set(#now);)
        })
        .collect();
    let use_set = quote!(
        use ::ferrobridge::__private::sea_orm::ActiveValue::Set;
    );
    let replace_use = if replace_values.is_empty() {
        quote!(let _ = active;)
    } else {
        use_set.clone()
    };
    let patch_use = if patch_values.is_empty() && touch.is_empty() {
        quote!(let _ = active;)
    } else {
        use_set.clone()
    };
    let patch_unused = if patch_values.is_empty() {
        quote!(let _ = input;)
    } else {
        quote!()
    };
    let replace_unused = if writable.iter().all(|n| *n == pk_name) {
        quote!(let _ = input;)
    } else {
        quote!()
    };

    quote! {
        impl ::ferrobridge::Model for #ident {
            type Entity = #module::Entity;
            type ActiveModel = #module::ActiveModel;
            type Create = #create;
            type Update = #update;
            type Read = #read;
            type Key = #pk_type;

            fn meta() -> &'static ::ferrobridge::model::ModelMeta {
                static META: ::ferrobridge::model::ModelMeta = ::ferrobridge::model::ModelMeta {
                    app_label: #app,
                    model_name: #model_name,
                    object_name: #object_name,
                    table: #table,
                    plural: #plural,
                    doc: #doc,
                    primary_key: #pk_str,
                    fields: &[#(#fields),*],
                    ordering: &[#(#ordering),*],
                    unique_together: &[#(&[#(#unique_together),*]),*],
                    api: ::ferrobridge::model::ApiMeta {
                        filter: &[#(#api_filter),*],
                        search: &[#(#api_search),*],
                        ordering: &[#(#api_ordering),*],
                        reject_unknown_fields: #reject_unknown,
                        policy: #policy,
                        owner: #owner_name,
                        own_rows_only: #own_rows_only,
                        pagination: #pagination,
                    },
                    load_by_keys: ::ferrobridge::api::load_by_keys::<#ident>,
                    admin: #admin_meta,
                };
                &META
            }

            fn primary_key_column() -> #module::Column {
                #module::Column::#pk_column
            }

            fn primary_key(row: &#module::Model) -> #pk_type {
                ::core::clone::Clone::clone(&row.#pk_name)
            }

            fn insert_from(input: #create) -> #module::ActiveModel {
                #active_value_use
                #insert_now
                #module::ActiveModel {
                    #(#insert_values,)*
                }
            }

            fn replace_with(active: &mut #module::ActiveModel, input: #create) {
                #replace_use
                #update_now
                #replace_unused
                #(#replace_values)*
            }

            #owner_fns

            #display_fn

            fn patch_with(active: &mut #module::ActiveModel, input: #update) {
                #patch_use
                #patch_unused
                #update_now
                #(#patch_values)*
                #(#touch)*
            }
        }
    }
}

/// `ModelMeta::admin`: the `#[admin(...)]` lists as field names.
fn admin_meta(model: &ModelDef) -> TokenStream {
    let ident = &model.ident;
    let admin = &model.admin;
    let names = |list: &[syn::Ident]| list.iter().map(crate::ast::name_of).collect::<Vec<_>>();
    let list_display = names(&admin.list_display);
    let list_filter = names(&admin.list_filter);
    let search = names(&admin.search);
    let autocomplete = names(&admin.autocomplete);
    let inlines = admin.inlines.iter();
    let list_per_page = match &admin.list_per_page {
        Some(lit) => quote!(#lit),
        None => quote!(100),
    };
    let hidden = admin.hidden.is_some();
    quote! {
        ::ferrobridge::model::AdminMeta {
            list_display: &[#(#list_display),*],
            list_filter: &[#(#list_filter),*],
            search: &[#(#search),*],
            autocomplete: &[#(#autocomplete),*],
            inlines: &[#(<#inlines as ::ferrobridge::Model>::meta),*],
            list_per_page: #list_per_page,
            hidden: #hidden,
            labels: ::ferrobridge::admin::load_labels::<#ident>,
        }
    }
}

/// `Model::display` from `#[model(display = "...")]` (or the struct's
/// `Display` impl with a bare `display`); nothing, for the default.
fn display_fn(model: &ModelDef) -> TokenStream {
    use crate::ast::{DisplayDef, DisplayPart, ScalarKind};
    let module = super::entity::module_ident(model);
    let body = match &model.display {
        None => return quote!(),
        Some(DisplayDef::DisplayImpl(_)) => {
            let ident = &model.ident;
            quote!(::std::string::ToString::to_string(&#ident::from(::core::clone::Clone::clone(row))))
        }
        Some(DisplayDef::Template(_, parts)) => {
            let pieces = parts.iter().map(|part| match part {
                DisplayPart::Text(text) => quote!(out.push_str(#text);),
                DisplayPart::Field(name) => {
                    let field = model
                        .field_named(name)
                        .expect("checked: display names fields");
                    let ident = &field.ident;
                    let shown = if field.kind == Some(ScalarKind::Choice) {
                        quote!(::ferrobridge::Choices::as_choice(value))
                    } else {
                        quote!(&::std::string::ToString::to_string(value))
                    };
                    if field.nullable {
                        quote! {
                            if let ::core::option::Option::Some(value) = &row.#ident {
                                out.push_str(#shown);
                            }
                        }
                    } else {
                        quote! {
                            let value = &row.#ident;
                            out.push_str(#shown);
                        }
                    }
                }
            });
            quote! {
                let mut out = ::std::string::String::new();
                #({ #pieces })*
                out
            }
        }
    };
    quote! {
        fn display(row: &#module::Model) -> ::std::string::String {
            #body
        }
    }
}

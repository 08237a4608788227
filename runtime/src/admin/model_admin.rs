//! Per-model hooks of the admin's add and change forms, as Django's
//! `ModelAdmin`: which fields the add form asks for, a field asked for
//! twice, a field set on a page of its own, where "Save" leads. Every model
//! gets [`DefaultAdmin`]; the built-in user gets
//! [`UserAdmin`](super::auth_admin::UserAdmin). The form code asks these
//! hooks and never looks at which model it is drawing.

use crate::model::FieldMeta;

/// A field the add form asks for twice, compared before anything is written.
#[derive(Clone, Copy, Debug)]
pub struct Confirmation {
    /// The field asked for twice (`password`).
    pub field: &'static str,
    /// The name of the second input (`password2`).
    pub input: &'static str,
    /// The second input's label.
    pub label: &'static str,
    /// The second input's help text.
    pub help: &'static str,
}

/// A field the change form shows but never edits: it is set on a page of
/// its own (a user's password, through `../password/`).
#[derive(Clone, Copy, Debug)]
pub struct OwnPage {
    /// The page's URL, relative to the change form.
    pub url: &'static str,
    /// What the change form shows instead of the stored value.
    pub text: &'static str,
}

/// How the admin's forms treat one model beyond what its metadata says.
/// Every method has a default that suits an ordinary model.
pub trait ModelAdmin: Send + Sync + 'static {
    /// The fields the add form shows, in this order; `None`: every field
    /// the add form of the model would show.
    fn add_fields(&self) -> Option<&'static [&'static str]> {
        None
    }

    /// The field the add form asks for twice, with its second input.
    fn add_confirmation(&self) -> Option<Confirmation> {
        None
    }

    /// Whether the add form shows the model's inlines.
    fn inlines_on_add(&self) -> bool {
        true
    }

    /// Whether "Save" on the add form goes on to the new object's change
    /// form (as Django's user admin does, for flags, groups and permissions).
    fn edit_after_add(&self) -> bool {
        false
    }

    /// The page of its own on which `field` is set, if it has one: the
    /// change form then shows [`OwnPage::text`] and a link, never the value.
    fn own_page(&self, field: &FieldMeta) -> Option<OwnPage> {
        let _ = field;
        None
    }
}

/// The hooks of a model registered without any: the defaults.
#[derive(Clone, Copy, Debug, Default)]
pub struct DefaultAdmin;

impl ModelAdmin for DefaultAdmin {}

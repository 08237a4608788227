//! Keyword struct names and raw field names compile, and the generated
//! names follow the documented rule: `r#where` (raw) where Rust allows it,
//! `crate_`/`super_` where it does not; `r#type` is the field `type`.
use ferrobridge::prelude::*;

#[derive(Model, Clone, Debug)]
#[model(app = "kw")]
#[api(filter(r#type), search(type), ordering(r#ref))]
#[admin(list_display(id, r#type), list_filter(r#match))]
pub struct Where {
    #[field(primary_key)]
    pub id: i64,
    #[field(max_length = 20, default = "x")]
    pub r#type: String,
    #[field(default = true)]
    pub r#match: bool,
    pub r#ref: Option<i32>,
    #[field(references = Crate)]
    pub r#crate_id: Option<i64>,
    #[field(references = Where, on_delete = "set_null")]
    pub self_id: Option<i64>,
}

#[derive(Model, Clone, Debug)]
#[model(app = "kw")]
pub struct Crate {
    #[field(primary_key)]
    pub id: Uuid,
    #[field(regex = "^[a-z]+$")]
    pub r#use: String,
}

#[derive(Model, Clone, Debug)]
#[model(app = "kw")]
pub struct Super {
    #[field(primary_key)]
    pub r#in: String,
}

fn main() {
    let _: (r#where::Entity, crate_::Entity, super_::Entity) =
        (r#where::Entity, crate_::Entity, super_::Entity);
    let _ = (r#where::Column::Type, r#where::Column::Match, r#where::Column::Ref);
    let _ = (r#where::Relation::Crate, r#where::Relation::Self_);
    let _ = WhereCreate::default_type();
    fn _guard(_: Perm<r#where::perms::View>) {}
    let _ = App::new("kw").model::<Crate>().model::<Where>().model::<Super>();
}

use ferrobridge::prelude::*;

#[derive(Model, Clone, Debug)]
#[model(app = "shop")]
pub struct Shelf {
    #[field(primary_key)]
    pub id: i64,
}

// A link table names a plain field as its parent, and adds a policy.
#[derive(Model, Clone, Debug)]
#[model(app = "shop", unique_together(shelf_id, prodcut_id))]
#[api(permissions_of = position, policy = "allow_any")]
pub struct Placement {
    #[field(primary_key)]
    pub id: i64,
    #[field(references = Shelf, on_delete = "cascade")]
    pub shelf_id: i64,
    pub product_id: i64,
    pub position: i32,
}

// `write_perm` names an unknown permission, or a server-set field;
// `#[admin(readonly)]` is refused in favour of field-level rules.
#[derive(Model, Clone, Debug)]
#[model(app = "shop", unique_together(title))]
#[admin(readonly(price))]
pub struct Product {
    #[field(primary_key)]
    pub id: i64,
    #[field(max_length = 100)]
    pub title: String,
    #[field(write_perm = "edit")]
    pub price: i32,
    #[field(read_only, write_perm = "change")]
    pub sold: i32,
}

fn main() {}

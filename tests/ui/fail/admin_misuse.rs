use ferrobridge::prelude::*;

#[derive(Model, Clone, Debug)]
#[model(app = "shop", display = "{title} ({nmae})")]
#[admin(
    list_display(id, titel),
    list_filter(specs),
    search(stock),
    autocomplete(stock),
    list_per_page = 0,
    list_filters(title)
)]
pub struct Product {
    #[field(primary_key)]
    pub id: i64,
    #[field(max_length = 100)]
    pub title: String,
    pub stock: i32,
    pub specs: serde_json::Value,
}

fn main() {}

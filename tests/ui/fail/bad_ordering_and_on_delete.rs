use ferrobridge::prelude::*;

#[derive(Model)]
#[model(app = "blog", ordering = "-titel")]
pub struct Note {
    #[field(primary_key)]
    pub id: i64,
    pub title: String,
    #[field(on_delete = "set_null")]
    pub parent_id: i64,
    #[field(auto_now)]
    pub stamp: String,
}

fn main() {}

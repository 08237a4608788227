use ferrobridge::prelude::*;

#[derive(Model)]
#[model(app = "blog")]
pub struct Tag {
    #[field(primary_key)]
    pub id: i64,
    pub aliases: Vec<String>,
}

fn main() {}

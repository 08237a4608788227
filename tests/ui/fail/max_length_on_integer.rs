use ferrobridge::prelude::*;

#[derive(Model)]
#[model(app = "blog")]
pub struct Tag {
    #[field(primary_key)]
    pub id: i64,
    #[field(max_length = 10)]
    pub uses: i32,
}

fn main() {}

use ferrobridge::prelude::*;

#[derive(Model)]
#[model(app = "blog", oredring = "name")]
pub struct Tag {
    #[field(primary_key)]
    pub id: i64,
    #[field(max_lenght = 50)]
    pub name: String,
}

fn main() {}

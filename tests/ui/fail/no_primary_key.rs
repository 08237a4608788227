use ferrobridge::prelude::*;

#[derive(Model)]
#[model(app = "blog")]
pub struct Tag {
    pub name: String,
}

fn main() {}

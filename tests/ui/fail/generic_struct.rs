//! A generic struct: one error, and no further ones where it is used.
use ferrobridge::prelude::*;

#[derive(Model, Clone, Debug)]
#[model(app = "blog")]
pub struct Post<T> {
    #[field(primary_key)]
    pub id: i64,
    pub body: T,
}

fn main() {
    let _ = Post::<String>::meta();
    let _: Option<PostCreate> = None;
    let _ = App::new("blog").model::<Post<String>>();
}

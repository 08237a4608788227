//! `references` to a missing type or to a type that is not a model: one
//! error each, at the token, naming ferrobridge's requirement.
use ferrobridge::prelude::*;

#[derive(Model, Clone, Debug)]
#[model(app = "blog")]
pub struct Post {
    #[field(primary_key)]
    pub id: i64,
    #[field(references = NoSuchModel)]
    pub author_id: i64,
}

pub struct Plain;

#[derive(Model, Clone, Debug)]
#[model(app = "blog")]
pub struct Comment {
    #[field(primary_key)]
    pub id: i64,
    #[field(references = Plain)]
    pub post_id: Option<i64>,
}

fn main() {
    let _ = App::new("blog").model::<Post>().model::<Comment>();
}

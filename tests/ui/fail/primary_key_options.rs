//! Options that mean nothing on a primary key, each refused at its token;
//! the uses of the models below the derive report nothing more.
use ferrobridge::prelude::*;

#[derive(Model, Clone, Debug)]
#[model(app = "blog")]
pub struct Post {
    #[field(primary_key, write_only)]
    pub id: i64,
    pub title: String,
}

#[derive(Model, Clone, Debug)]
#[model(app = "blog")]
pub struct Tag {
    #[field(primary_key, read_only, default = 1)]
    pub id: i64,
}

#[derive(Model, Clone, Debug)]
#[model(app = "blog")]
pub struct Slug {
    #[field(primary_key, read_only, password, default = "a")]
    pub slug: String,
}

#[derive(Model, Clone, Debug)]
#[model(app = "blog")]
pub struct Stamp {
    #[field(primary_key, auto_now_add)]
    pub id: i64,
}

#[derive(Model, Clone, Debug)]
#[model(app = "blog")]
pub struct Token {
    #[field(primary_key, default = "00000000-0000-0000-0000-000000000000")]
    pub id: Uuid,
}

async fn handler(_: Perm<post::perms::View>, _: Json<PostCreate>) -> Json<Option<PostRead>> {
    Json(None)
}

fn main() {
    let _ = Post::meta();
    let _: post::Entity = post::Entity;
    let _: Option<(PostCreate, PostUpdate, tag::Column)> = None;
    let _ = App::new("blog")
        .model::<Post>()
        .model::<Tag>()
        .model::<Slug>()
        .model::<Stamp>()
        .model::<Token>()
        .route("/x", post(handler));
}

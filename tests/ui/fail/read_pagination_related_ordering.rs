use ferrobridge::prelude::*;

#[derive(Model, Clone, Debug)]
#[model(app = "auth")]
pub struct ContentType {
    #[field(primary_key)]
    pub id: i32,
    pub model: String,
}

#[derive(Model, Clone, Debug)]
#[model(app = "auth", ordering = "kind__model,content_type__app__label")]
#[api(read(pk, nmae, id), pagination = "sideways")]
pub struct Permission {
    #[field(primary_key)]
    pub id: i32,
    pub name: String,
    pub kind: String,
    #[field(references = ContentType)]
    pub content_type_id: i32,
    #[field(write_only)]
    pub secret: String,
}

#[derive(Model, Clone, Debug)]
#[model(app = "auth")]
#[api(read(secret))]
pub struct Token {
    #[field(primary_key)]
    pub id: i32,
    #[field(write_only)]
    pub secret: String,
}

fn main() {}

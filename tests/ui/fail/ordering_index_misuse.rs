use ferrobridge::prelude::*;

#[derive(Model)]
#[model(app = "blog", ordering = "-created_at", ordering_index = "no")]
pub struct Post {
    #[field(primary_key)]
    pub id: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Model)]
#[model(app = "blog", ordering = "title", ordering_index)]
pub struct Note {
    #[field(primary_key)]
    pub id: i64,
    pub title: String,
}

fn main() {}

use ferrobridge::prelude::*;

#[derive(Clone, Debug, PartialEq)]
pub enum Mood {
    Happy,
    Sad,
}

#[derive(Choices, Clone, Debug, PartialEq)]
pub enum Shape {
    Round,
    Square(u8),
}

#[derive(Model)]
#[model(app = "edge")]
pub struct Entry {
    #[field(primary_key)]
    pub id: i64,
    pub mood: Mood,
    #[field(choices)]
    pub size: i32,
}

fn main() {}

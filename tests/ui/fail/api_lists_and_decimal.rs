use ferrobridge::__private::rust_decimal::Decimal;
use ferrobridge::prelude::*;

#[derive(Model)]
#[model(app = "shop")]
#[api(filter(titel), search(stock), ordering(price), sort(price))]
pub struct Product {
    #[field(primary_key)]
    pub id: i64,
    pub title: String,
    #[field(email)]
    pub stock: i32,
    pub price: Decimal,
}

fn main() {}

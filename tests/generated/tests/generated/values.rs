//! Values that satisfy a generated field's type and options, and the
//! comparison of what was sent with what came back.

use ferrobridge::__private::chrono::{DateTime, Duration, NaiveDate, Utc};
use ferrobridge_genmodels::{DefaultValue, Field, Generated, Kind, Pattern};
use serde_json::{Value, json};

/// `n` written with letters only (`0` -> `a`, `27` -> `bb`): unique words
/// that survive regexes of letters and case-insensitive search.
pub fn letters(mut n: u64) -> String {
    let mut out = String::new();
    loop {
        out.push((b'a' + (n % 26) as u8) as char);
        n /= 26;
        if n == 0 {
            return out;
        }
    }
}

/// A value of `field` unique to `n` (`variant` picks among choices and
/// booleans so two rows differ), within every bound the field declares.
/// Foreign keys are filled by the caller.
pub fn value(generated: &Generated, field: &Field, n: u64, variant: usize) -> Value {
    match field.kind {
        Kind::I16 | Kind::I32 | Kind::I64 => json!(integer(field, n)),
        Kind::F32 | Kind::F64 => {
            let low = field.min_value.unwrap_or(0.0).max(0.0);
            let high = field.max_value.unwrap_or(1e6);
            json!((low + (n % 10_000) as f64 + 0.5).min(high))
        }
        Kind::Bool => json!(variant.is_multiple_of(2)),
        Kind::Str => json!(string(field, n)),
        Kind::Decimal { digits, places } => {
            let whole = 10u64.pow((digits - places).min(6));
            let int = n % whole;
            if places == 0 {
                json!(int.to_string())
            } else {
                let frac = format!("{:0<width$}", "25", width = places as usize);
                json!(format!("{int}.{}", &frac[..places as usize]))
            }
        }
        Kind::Date => {
            let day = NaiveDate::from_ymd_opt(2020, 1, 1).expect("date") + Duration::days(n as i64);
            json!(day.format("%Y-%m-%d").to_string())
        }
        Kind::DateTime => {
            let base: DateTime<Utc> = "2021-01-01T00:00:00Z".parse().expect("instant");
            let at = base + Duration::seconds(n as i64 * 61);
            // Whole seconds and microseconds alternate: stored precisions mix.
            if variant.is_multiple_of(2) {
                json!(at.format("%Y-%m-%dT%H:%M:%SZ").to_string())
            } else {
                json!(at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string())
            }
        }
        Kind::Uuid => json!(format!("00000000-0000-4000-8000-{n:012x}")),
        Kind::Json => json!({"n": n, "tags": ["a", "b\"c"], "nested": {"ok": true, "none": null}}),
        Kind::Choice(e) => {
            let variants = &generated.enums[e].variants;
            json!(variants[variant % variants.len()].1)
        }
    }
}

fn integer(field: &Field, n: u64) -> i64 {
    let (type_low, type_high) = field.kind.integer_range().expect("an integer");
    let low = field.min_value.map_or(type_low, |v| v as i64).max(0);
    let high = field
        .max_value
        .map_or(type_high, |v| v as i64)
        .min(type_high);
    (low + n as i64).min(high)
}

fn string(field: &Field, n: u64) -> String {
    let word = format!("zq{}", letters(n));
    let text = if field.email {
        format!("{word}@example.com")
    } else if field.url {
        format!("https://example.com/{word}?x=1&y=2")
    } else if field.password {
        format!("Gx7!tern-{word}-Qlp")
    } else if field.pattern == Some(Pattern::Code) {
        format!("ABC-{n}")
    } else if field.pattern == Some(Pattern::Words) {
        format!("{word} alpha beta")
    } else if field.primary_key || field.foreign_key.is_some() {
        format!("k{n}")
    } else {
        format!("{word} Généré O'Brien <b>&amp; \"x\" </script>")
    };
    let max = field.max_length.unwrap_or(255) as usize;
    let cut: String = text.chars().take(max).collect();
    // No trailing blank: it is what a user types, and it stays a word.
    cut.trim_end().to_string()
}

/// The value a create leaving `field` out must produce (its default, or null).
pub fn default_of(generated: &Generated, field: &Field) -> Option<Value> {
    Some(match (&field.default, field.kind) {
        (Some(DefaultValue::Bool(b)), _) => json!(b),
        (Some(DefaultValue::Int(i)), _) => json!(i),
        (Some(DefaultValue::Float(x)), _) => json!(x),
        (Some(DefaultValue::Str(s)), _) => json!(s),
        (Some(DefaultValue::Variant(v)), Kind::Choice(e)) => {
            json!(generated.enums[e].variants[*v].1)
        }
        (Some(DefaultValue::Variant(_)), _) => return None,
        (None, _) if field.nullable => Value::Null,
        (None, _) => return None,
    })
}

/// Whether `got` (a response value) is `sent` (a request value) for `field`:
/// numbers by value, decimals and instants by meaning, the rest as JSON.
pub fn same(field: &Field, sent: &Value, got: &Value) -> bool {
    if sent.is_null() || got.is_null() {
        return sent.is_null() && got.is_null();
    }
    match field.kind {
        Kind::F32 | Kind::F64 => match (sent.as_f64(), got.as_f64()) {
            (Some(a), Some(b)) => (a - b).abs() <= 1e-3 * a.abs().max(1.0),
            _ => false,
        },
        Kind::Decimal { .. } => number_text(sent) == number_text(got),
        Kind::DateTime => instant(sent).is_some() && instant(sent) == instant(got),
        Kind::Uuid => sent.as_str().map(str::to_lowercase) == got.as_str().map(str::to_lowercase),
        _ => sent == got,
    }
}

fn number_text(v: &Value) -> Option<f64> {
    match v {
        Value::String(s) => s.parse().ok(),
        other => other.as_f64(),
    }
}

fn instant(v: &Value) -> Option<DateTime<Utc>> {
    v.as_str()?.parse().ok()
}

/// `value` as a query string value (`true`, `12`, text as is).
pub fn query_text(value: &Value) -> Option<String> {
    match value {
        Value::Null | Value::Array(_) | Value::Object(_) => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// A value that is not of `kind`, for 4xx checks (`None`: anything parses).
pub fn bad_query_value(kind: Kind) -> Option<&'static str> {
    match kind {
        Kind::Str | Kind::Json => None,
        Kind::Choice(_) => Some("not-a-choice"),
        _ => Some("zz-not-a-value"),
    }
}

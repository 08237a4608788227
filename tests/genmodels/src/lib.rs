//! Writes many `#[derive(Model)]` definitions from a grammar, seeded and
//! reproducible, for the generated-models test (`tests/generated`).
//!
//! [`generate`] returns the Rust source of the models (with a `register`
//! function adding them to an `App`) and a description of every model and
//! field, which the test driver reads to build valid bodies and queries.
//! The same [`Config`] always gives the same output, so the build script
//! that writes the source and the test that drives it agree without
//! passing files around.
//!
//! The grammar draws struct and field names from Rust keywords (written
//! as raw identifiers, `r#type`), SQL keywords (`order`, `group`, `select`,
//! `user`, `key`, `table`), one-letter and long names; every field type the
//! derive supports with the options it accepts on that type; nullable and
//! required foreign keys within an app, across apps and to the model
//! itself; and two apps holding models of the same name. [`Features`]
//! switches the families off one by one.

mod emit;
mod grammar;

pub use grammar::generate;

/// Families of the grammar that can be switched off (all on by default).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Features {
    /// Fields written as raw identifiers (`r#type`, `r#parent_id`).
    pub raw_idents: bool,
    /// Struct names whose snake_case module name is a Rust keyword (`Where`, `Type`).
    pub keyword_models: bool,
    /// Models of the same name in two apps, and an app's own `User`.
    pub same_names: bool,
    /// Foreign keys to a model of another app (registered later).
    pub cross_app: bool,
    /// Filter lookups on date and datetime fields.
    pub datetime_lookups: bool,
}

impl Features {
    /// The names [`Features::parse_off`] accepts, each with its switch.
    pub const NAMES: &'static [&'static str] =
        &["raw", "keywords", "names", "crossapp", "datetime"];

    /// The families left out when `FERROBRIDGE_GEN_OFF` is unset: none,
    /// every family runs by default.
    pub const DEFAULT_OFF: &'static str = "";

    /// Every family on.
    pub fn all() -> Features {
        Features {
            raw_idents: true,
            keyword_models: true,
            same_names: true,
            cross_app: true,
            datetime_lookups: true,
        }
    }

    /// Every family on but those named in `off` (comma-separated
    /// [`Features::NAMES`]); an unknown name is an error listing them.
    pub fn parse_off(off: &str) -> Result<Features, String> {
        let mut features = Features::all();
        for name in off.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let switch = match name {
                "raw" => &mut features.raw_idents,
                "keywords" => &mut features.keyword_models,
                "names" => &mut features.same_names,
                "crossapp" => &mut features.cross_app,
                "datetime" => &mut features.datetime_lookups,
                other => {
                    return Err(format!(
                        "unknown feature `{other}`: write one of {}",
                        Features::NAMES.join(", ")
                    ));
                }
            };
            *switch = false;
        }
        Ok(features)
    }

    /// The names of the families switched off, comma-separated.
    pub fn off_names(&self) -> String {
        let switches = [
            self.raw_idents,
            self.keyword_models,
            self.same_names,
            self.cross_app,
            self.datetime_lookups,
        ];
        Features::NAMES
            .iter()
            .zip(switches)
            .filter(|(_, on)| !on)
            .map(|(name, _)| *name)
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// What to generate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// The seed: the same seed gives the same models.
    pub seed: u64,
    /// How many models.
    pub models: usize,
    /// Which families of the grammar are on.
    pub features: Features,
}

impl Config {
    /// The default set the CI runs: sized to compile and run in about a minute.
    pub const DEFAULT_SEED: u64 = 1;
    /// See [`Config::DEFAULT_SEED`].
    pub const DEFAULT_MODELS: usize = 16;

    /// From `FERROBRIDGE_GEN_SEED`, `FERROBRIDGE_GEN_MODELS` and
    /// `FERROBRIDGE_GEN_OFF` (families switched off; unset:
    /// [`Features::DEFAULT_OFF`]), defaults otherwise.
    pub fn from_env() -> Result<Config, String> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let seed = match var("FERROBRIDGE_GEN_SEED") {
            Some(v) => v
                .trim()
                .parse()
                .map_err(|_| format!("FERROBRIDGE_GEN_SEED={v}: write a whole number"))?,
            None => Config::DEFAULT_SEED,
        };
        let models = match var("FERROBRIDGE_GEN_MODELS") {
            Some(v) => match v.trim().parse() {
                Ok(n) if n >= 4 => n,
                _ => {
                    return Err(format!(
                        "FERROBRIDGE_GEN_MODELS={v}: write a number of models, at least 4"
                    ));
                }
            },
            None => Config::DEFAULT_MODELS,
        };
        // Set but empty: every family on.
        let off = std::env::var("FERROBRIDGE_GEN_OFF");
        let features = Features::parse_off(off.as_deref().unwrap_or(Features::DEFAULT_OFF))?;
        Ok(Config {
            seed,
            models,
            features,
        })
    }
}

/// A field's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `i16`.
    I16,
    /// `i32`.
    I32,
    /// `i64`.
    I64,
    /// `f32`.
    F32,
    /// `f64`.
    F64,
    /// `bool`.
    Bool,
    /// `String` (VARCHAR, or TEXT with `text`).
    Str,
    /// `rust_decimal::Decimal` with its precision.
    Decimal {
        /// `max_digits`.
        digits: u32,
        /// `decimal_places`.
        places: u32,
    },
    /// `NaiveDate`.
    Date,
    /// `DateTimeUtc`.
    DateTime,
    /// `Uuid`.
    Uuid,
    /// `serde_json::Value`.
    Json,
    /// A `#[derive(Choices)]` enum: the index into [`Generated::enums`].
    Choice(usize),
}

impl Kind {
    /// Integers (auto-increment keys, foreign keys).
    pub fn is_integer(self) -> bool {
        matches!(self, Kind::I16 | Kind::I32 | Kind::I64)
    }

    /// The inclusive range of values the Rust type holds, for integers.
    pub fn integer_range(self) -> Option<(i64, i64)> {
        match self {
            Kind::I16 => Some((i16::MIN.into(), i16::MAX.into())),
            Kind::I32 => Some((i32::MIN.into(), i32::MAX.into())),
            Kind::I64 => Some((i64::MIN, i64::MAX)),
            _ => None,
        }
    }
}

/// A `default = ...` literal.
#[derive(Clone, Debug, PartialEq)]
pub enum DefaultValue {
    /// `default = true`.
    Bool(bool),
    /// `default = 7`.
    Int(i64),
    /// `default = 2.5`.
    Float(f64),
    /// `default = "text"`.
    Str(String),
    /// `default = Enum::Variant`: the index of the variant.
    Variant(usize),
}

/// What a foreign key references.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// A generated model, by index into [`Generated::models`].
    Model(usize),
    /// The built-in `ferrobridge::auth::User`.
    AuthUser,
}

/// A `references = ...` field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ForeignKey {
    /// The referenced model.
    pub target: Target,
    /// `on_delete = "..."` when written.
    pub on_delete: Option<&'static str>,
}

/// A `regex = "..."` the driver knows how to satisfy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pattern {
    /// `^[A-Z]{3}-[0-9]+$`.
    Code,
    /// `^[a-z]+( [a-z]+)*$`.
    Words,
}

impl Pattern {
    /// The regular expression as written in the attribute.
    pub fn regex(self) -> &'static str {
        match self {
            Pattern::Code => "^[A-Z]{3}-[0-9]+$",
            Pattern::Words => "^[a-z]+( [a-z]+)*$",
        }
    }
}

/// One generated field.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    /// The name everywhere outside Rust: JSON key, column, query parameter.
    pub name: String,
    /// The identifier as written in the struct (`r#type` when raw).
    pub ident: String,
    /// The type (inside `Option` when nullable).
    pub kind: Kind,
    /// `Option<T>`.
    pub nullable: bool,
    /// `primary_key`.
    pub primary_key: bool,
    /// `unique`.
    pub unique: bool,
    /// `index`.
    pub index: bool,
    /// `text`.
    pub text: bool,
    /// `max_length`.
    pub max_length: Option<u32>,
    /// `min_length`.
    pub min_length: Option<u32>,
    /// `min_value` (floats get whole or half values).
    pub min_value: Option<f64>,
    /// `max_value`.
    pub max_value: Option<f64>,
    /// `default`.
    pub default: Option<DefaultValue>,
    /// `references` and `on_delete`.
    pub foreign_key: Option<ForeignKey>,
    /// `read_only`.
    pub read_only: bool,
    /// `write_only`.
    pub write_only: bool,
    /// `write_perm = "change"`.
    pub write_perm: bool,
    /// `auto_now`.
    pub auto_now: bool,
    /// `auto_now_add`.
    pub auto_now_add: bool,
    /// `email`.
    pub email: bool,
    /// `url`.
    pub url: bool,
    /// `password`.
    pub password: bool,
    /// `regex`.
    pub pattern: Option<Pattern>,
    /// The doc comment (help text).
    pub doc: Option<String>,
    /// Set by the server (the owner field of `#[api(owner = ...)]`).
    pub owner: bool,
}

impl Field {
    /// A field of `kind` named `name` with no options.
    pub fn new(name: &str, kind: Kind) -> Field {
        Field {
            name: name.to_string(),
            ident: name.to_string(),
            kind,
            nullable: false,
            primary_key: false,
            unique: false,
            index: false,
            text: false,
            max_length: None,
            min_length: None,
            min_value: None,
            max_value: None,
            default: None,
            foreign_key: None,
            read_only: false,
            write_only: false,
            write_perm: false,
            auto_now: false,
            auto_now_add: false,
            email: false,
            url: false,
            password: false,
            pattern: None,
            doc: None,
            owner: false,
        }
    }

    /// Set by the server: never in a request body.
    pub fn is_server_set(&self) -> bool {
        self.read_only
            || self.auto_now
            || self.auto_now_add
            || self.owner
            || (self.primary_key && (self.kind.is_integer() || self.kind == Kind::Uuid))
    }

    /// Never in a response.
    pub fn is_secret(&self) -> bool {
        self.write_only || self.password
    }
}

/// `#[admin(...)]` of a model.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Admin {
    /// `list_display(...)`.
    pub list_display: Vec<String>,
    /// `list_filter(...)`.
    pub list_filter: Vec<String>,
    /// `search(...)`.
    pub search: Vec<String>,
    /// `autocomplete(...)`.
    pub autocomplete: Vec<String>,
    /// `inlines(...)`: model indexes.
    pub inlines: Vec<usize>,
    /// `list_per_page`.
    pub list_per_page: Option<u32>,
    /// `hidden`.
    pub hidden: bool,
}

/// One generated model.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    /// Its index in [`Generated::models`]; foreign keys point to lower
    /// indexes (or to the model itself), so creating rows in index order works.
    pub index: usize,
    /// The app label.
    pub app: String,
    /// The Rust module holding the app's models (`app_core`).
    pub module: String,
    /// The struct's name.
    pub name: String,
    /// Django's model name (lower case), the admin URL segment.
    pub model_name: String,
    /// The URL segment under `/api/`.
    pub plural: String,
    /// `#[model(plural = ...)]` was written.
    pub custom_plural: bool,
    /// `#[model(table = ...)]`, when written.
    pub table: Option<String>,
    /// The fields, primary key first.
    pub fields: Vec<Field>,
    /// `#[model(ordering = ...)]` terms as written (`-name`).
    pub ordering: Vec<String>,
    /// `#[model(unknown_fields = "ignore")]`.
    pub ignore_unknown: bool,
    /// `#[model(display = ...)]`.
    pub display: Option<String>,
    /// `#[model(unique_together(...))]`.
    pub unique_together: Vec<String>,
    /// `#[api(filter(...))]`.
    pub filter: Vec<String>,
    /// `#[api(search(...))]`.
    pub search: Vec<String>,
    /// `#[api(ordering(...))]`.
    pub orderable: Vec<String>,
    /// `#[api(read(...))]`.
    pub read: Option<Vec<String>>,
    /// `#[api(pagination = "none")]`.
    pub unpaged: bool,
    /// `#[api(policy = ...)]`.
    pub policy: Option<&'static str>,
    /// `#[api(owner = ...)]`.
    pub owner: Option<String>,
    /// `#[api(own_rows_only)]`.
    pub own_rows_only: bool,
    /// `#[admin(...)]`.
    pub admin: Admin,
    /// The doc comment.
    pub doc: String,
}

impl Model {
    /// The primary key.
    pub fn primary_key(&self) -> &Field {
        self.fields
            .iter()
            .find(|f| f.primary_key)
            .expect("every model has a primary key")
    }

    /// The field called `name`.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The Rust path of the struct from the generated file's root.
    pub fn path(&self) -> String {
        format!("{}::{}", self.module, self.name)
    }

    /// The JSON keys of the Read schema: `read(...)` (`pk` as itself) or
    /// every field that is not secret.
    pub fn read_keys(&self) -> Vec<String> {
        match &self.read {
            Some(names) => names.clone(),
            None => self
                .fields
                .iter()
                .filter(|f| !f.is_secret())
                .map(|f| f.name.clone())
                .collect(),
        }
    }
}

/// A generated `#[derive(Choices)]` enum.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChoiceEnum {
    /// The enum's name.
    pub name: String,
    /// `(Rust variant, stored value)` pairs.
    pub variants: Vec<(String, String)>,
}

/// The output of [`generate`].
#[derive(Clone, Debug, PartialEq)]
pub struct Generated {
    /// What it was made from.
    pub config: Config,
    /// The app labels, in the order their modules are written.
    pub apps: Vec<String>,
    /// The choice enums (module `choices`).
    pub enums: Vec<ChoiceEnum>,
    /// The models, in creation order.
    pub models: Vec<Model>,
    /// The order `register` adds models to the `App`.
    pub registration: Vec<usize>,
}

/// `(struct name, plural, model name)` of the built-in models served under `/api/`.
const BUILTIN: &[(&str, &str, &str)] = &[
    ("User", "users", "user"),
    ("Group", "groups", "group"),
    ("Permission", "permissions", "permission"),
];

impl Generated {
    /// Where model `index` is served: `/api/{plural}`, or
    /// `/api/{app}/{plural}` when another registered model (a built-in one
    /// included) shares its struct name, plural or model name, as the
    /// runtime's naming rule across apps qualifies both (README "Names
    /// across apps").
    pub fn api_path(&self, index: usize) -> String {
        let m = &self.models[index];
        let shares = |name: &str, plural: &str, model_name: &str| {
            name == m.name || plural == m.plural || model_name == m.model_name
        };
        let clash = self
            .models
            .iter()
            .filter(|o| o.index != index)
            .any(|o| shares(&o.name, &o.plural, &o.model_name))
            || BUILTIN.iter().any(|(n, p, l)| shares(n, p, l));
        if clash {
            format!("/api/{}/{}", m.app, m.plural)
        } else {
            format!("/api/{}", m.plural)
        }
    }

    /// The Rust source: a module per app, the enums, and
    /// `pub fn register(app: ferrobridge::App) -> ferrobridge::App`.
    pub fn source(&self) -> String {
        emit::source(self)
    }
}

/// A small, fast, seedable generator (SplitMix64): reproducible across
/// platforms and releases, unlike a library's default RNG.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator starting from `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x5eed_f0e1_d0c0_ffee)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u32) -> bool {
        self.below(100) < percent as usize
    }

    /// One element of `items` (non-empty).
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// Shuffles `items` in place (Fisher-Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}

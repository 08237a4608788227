//! The grammar: which models, names, fields and options are drawn.
//!
//! Every option combination is valid for the derive (see
//! `macros/codegen/src/check.rs`); the families of [`Features`] can be
//! switched off while the bugs they exercise are open.

use std::collections::BTreeSet;

use crate::{
    Admin, ChoiceEnum, Config, DefaultValue, Features, Field, ForeignKey, Generated, Kind, Model,
    Pattern, Rng, Target,
};

/// The app labels; `group` is an SQL keyword. Cross-app foreign keys go
/// from a later app to an earlier one, so the apps' dependencies have no
/// cycle, and apps are registered in reverse, targets last.
const APPS: &[&str] = &["core", "sales", "group"];

/// Rust keywords, usable only as raw identifiers (`r#type`); `self`,
/// `super`, `crate` and `Self` cannot be raw.
const RUST_KEYWORDS: &[&str] = &[
    "type", "match", "where", "loop", "move", "ref", "use", "mod", "fn", "impl", "trait", "struct",
    "enum", "as", "in", "for", "if", "else", "let", "const", "static", "pub", "return", "while",
    "break", "continue", "async", "await", "dyn", "unsafe", "extern", "mut", "gen", "try", "yield",
    "abstract", "final", "override", "macro", "box", "virtual", "typeof",
];

/// SQL keywords, plain identifiers in Rust.
const SQL_KEYWORDS: &[&str] = &[
    "order", "group", "select", "user", "key", "table", "from", "limit", "offset", "desc", "asc",
    "column", "check", "default", "primary", "null", "values", "having", "join", "union", "index",
    "insert", "delete", "update", "grant", "end",
];

/// One-letter names; `p`, `q`, `o` and `e` are the admin change list's
/// own query parameters, so they are left out.
const LETTERS: &[&str] = &["a", "b", "c", "x", "y", "z", "n", "w"];

/// Long names (PostgreSQL truncates identifiers at 63 bytes).
const LONG: &[&str] = &[
    "a_rather_long_field_name_that_keeps_on_going",
    "quantity_of_items_remaining_in_the_warehouse",
    "the_date_on_which_this_was_last_reviewed",
];

const ORDINARY: &[&str] = &[
    "title", "amount", "note", "score", "label", "rank", "weight", "total", "due", "stamp",
    "color", "size", "level", "flag", "price", "code", "status", "summary", "body", "heading",
    "quantity", "margin", "ratio", "tag", "region", "city", "street", "phone", "remark", "slug",
    "caption", "mood", "volume", "depth", "height", "width", "length", "origin", "target",
];

/// Names the list endpoint reads as its own parameters, the primary key's
/// alias and the default key name; never field names here.
const RESERVED: &[&str] = &[
    "page",
    "page_size",
    "cursor",
    "ordering",
    "search",
    "expand",
    "pk",
    "id",
    "q",
    "p",
    "o",
    "e",
];

const KEYWORD_MODELS: &[&str] = &[
    "Where", "Type", "Match", "Loop", "Move", "Ref", "Impl", "Trait", "Mod", "Fn", "Use", "Enum",
    "Struct", "Async", "Dyn", "Gen", "Static", "Const",
];
const SQL_MODELS: &[&str] = &[
    "Order", "Group", "Select", "Key", "Table", "Column", "Limit",
];
const LETTER_MODELS: &[&str] = &["A", "B", "X", "Z"];
const LONG_MODELS: &[&str] = &[
    "ARatherLongModelNameThatKeepsGoing",
    "WarehouseInventorySnapshotEntry",
];
const ORDINARY_MODELS: &[&str] = &[
    "Invoice", "Widget", "Note", "Ticket", "Payment", "Shipment", "Event", "Item", "Entry",
    "Record", "Parcel", "Voucher", "Booking", "Receipt", "Gadget", "Sprocket",
];

/// Builds the models of `config`; the same config always gives the same models.
pub fn generate(config: &Config) -> Generated {
    let mut rng = Rng::new(config.seed);
    let features = config.features;
    let enums = choice_enums();
    let mut deck = recipes(&enums);
    rng.shuffle(&mut deck);
    let per_model = deck.len().div_ceil(config.models).max(1);
    let mut names = ModelNames::default();
    let mut models: Vec<Model> = Vec::new();
    for index in 0..config.models {
        let app = if index < APPS.len() {
            index
        } else {
            rng.below(APPS.len())
        };
        let name = names.pick(&mut rng, features, index, app, &models);
        let take = per_model.min(deck.len());
        let mut fields: Vec<Field> = deck.drain(..take).collect();
        for _ in 0..rng.below(3) {
            let all = recipes(&enums);
            fields.push(rng.pick(&all).clone());
        }
        let model = build_model(&mut rng, features, index, app, name, fields, &models);
        models.push(model);
    }
    add_inlines(&mut rng, &mut models);
    let mut registration: Vec<usize> = Vec::new();
    for app in APPS.iter().rev() {
        registration.extend(models.iter().filter(|m| m.app == *app).map(|m| m.index));
    }
    Generated {
        config: *config,
        apps: APPS.iter().map(|a| a.to_string()).collect(),
        enums,
        models,
        registration,
    }
}

fn choice_enums() -> Vec<ChoiceEnum> {
    let e = |name: &str, variants: &[(&str, &str)]| ChoiceEnum {
        name: name.into(),
        variants: variants
            .iter()
            .map(|(v, s)| (v.to_string(), s.to_string()))
            .collect(),
    };
    vec![
        e(
            "Color",
            &[("Red", "red"), ("Green", "green"), ("SkyBlue", "sky-blue")],
        ),
        e(
            "Level",
            &[
                ("Low", "low"),
                ("Medium", "medium"),
                ("VeryHigh", "very_high"),
            ],
        ),
        e(
            "Stage",
            &[
                ("Draft", "draft"),
                ("InReview", "in_review"),
                ("Done", "done"),
            ],
        ),
    ]
}

/// One field of every type with every option the derive accepts on it,
/// unnamed: the deck dealt to the models.
fn recipes(enums: &[ChoiceEnum]) -> Vec<Field> {
    let t = |kind: Kind| Field::new("", kind);
    let mut all = Vec::new();
    for kind in [Kind::I16, Kind::I32, Kind::I64] {
        let top = if kind == Kind::I16 {
            30000.0
        } else {
            1_000_000.0
        };
        all.extend([
            t(kind),
            Field {
                unique: true,
                ..t(kind)
            },
            Field {
                index: true,
                ..t(kind)
            },
            Field {
                default: Some(DefaultValue::Int(7)),
                ..t(kind)
            },
            Field {
                min_value: Some(0.0),
                max_value: Some(top),
                ..t(kind)
            },
            Field {
                min_value: Some(-50.0),
                ..t(kind)
            },
            Field {
                nullable: true,
                ..t(kind)
            },
            Field {
                nullable: true,
                default: Some(DefaultValue::Int(3)),
                ..t(kind)
            },
            Field {
                nullable: true,
                read_only: true,
                ..t(kind)
            },
            Field {
                read_only: true,
                default: Some(DefaultValue::Int(5)),
                ..t(kind)
            },
            Field {
                write_only: true,
                ..t(kind)
            },
            Field {
                write_perm: true,
                ..t(kind)
            },
        ]);
    }
    for kind in [Kind::F32, Kind::F64] {
        all.extend([
            t(kind),
            Field {
                min_value: Some(0.5),
                max_value: Some(1e6),
                ..t(kind)
            },
            Field {
                min_value: Some(-10.0),
                ..t(kind)
            },
            Field {
                default: Some(DefaultValue::Float(2.5)),
                ..t(kind)
            },
            Field {
                default: Some(DefaultValue::Int(3)),
                ..t(kind)
            },
            Field {
                nullable: true,
                ..t(kind)
            },
            Field {
                index: true,
                unique: true,
                ..t(kind)
            },
        ]);
    }
    let b = Kind::Bool;
    all.extend([
        t(b),
        Field {
            default: Some(DefaultValue::Bool(true)),
            ..t(b)
        },
        Field {
            default: Some(DefaultValue::Bool(false)),
            ..t(b)
        },
        Field {
            nullable: true,
            ..t(b)
        },
        Field {
            index: true,
            ..t(b)
        },
        Field {
            write_perm: true,
            default: Some(DefaultValue::Bool(false)),
            ..t(b)
        },
        Field {
            read_only: true,
            default: Some(DefaultValue::Bool(false)),
            ..t(b)
        },
    ]);
    all.extend(string_recipes());
    for (digits, places) in [(10, 2), (16, 4), (6, 3), (5, 0), (20, 5)] {
        let kind = Kind::Decimal { digits, places };
        all.push(Field {
            unique: digits == 16,
            index: digits == 5,
            nullable: digits == 6,
            ..t(kind)
        });
    }
    for kind in [Kind::Date, Kind::DateTime] {
        all.extend([
            t(kind),
            Field {
                nullable: true,
                ..t(kind)
            },
            Field {
                unique: true,
                ..t(kind)
            },
            Field {
                index: true,
                ..t(kind)
            },
        ]);
    }
    let dt = Kind::DateTime;
    all.extend([
        Field {
            auto_now: true,
            ..t(dt)
        },
        Field {
            auto_now_add: true,
            ..t(dt)
        },
        Field {
            auto_now_add: true,
            index: true,
            ..t(dt)
        },
        Field {
            nullable: true,
            read_only: true,
            ..t(dt)
        },
        t(Kind::Uuid),
        Field {
            unique: true,
            ..t(Kind::Uuid)
        },
        Field {
            nullable: true,
            index: true,
            ..t(Kind::Uuid)
        },
        t(Kind::Json),
        Field {
            nullable: true,
            ..t(Kind::Json)
        },
    ]);
    for (i, _) in enums.iter().enumerate() {
        let kind = Kind::Choice(i);
        all.extend([
            t(kind),
            Field {
                default: Some(DefaultValue::Variant(1)),
                ..t(kind)
            },
            Field {
                nullable: true,
                ..t(kind)
            },
            Field {
                index: true,
                ..t(kind)
            },
            Field {
                nullable: true,
                default: Some(DefaultValue::Variant(2)),
                ..t(kind)
            },
        ]);
    }
    all
}

fn string_recipes() -> Vec<Field> {
    let s = || Field::new("", Kind::Str);
    vec![
        s(),
        Field {
            max_length: Some(60),
            ..s()
        },
        Field {
            max_length: Some(80),
            min_length: Some(2),
            ..s()
        },
        Field { text: true, ..s() },
        Field {
            text: true,
            min_length: Some(1),
            ..s()
        },
        Field {
            max_length: Some(30),
            default: Some(DefaultValue::Str("draft \"one\"".into())),
            ..s()
        },
        Field {
            unique: true,
            max_length: Some(50),
            ..s()
        },
        Field {
            index: true,
            max_length: Some(40),
            ..s()
        },
        Field {
            pattern: Some(Pattern::Code),
            max_length: Some(20),
            ..s()
        },
        Field {
            pattern: Some(Pattern::Words),
            ..s()
        },
        Field { email: true, ..s() },
        Field {
            url: true,
            max_length: Some(200),
            ..s()
        },
        Field {
            password: true,
            ..s()
        },
        Field {
            write_only: true,
            max_length: Some(40),
            ..s()
        },
        Field {
            nullable: true,
            max_length: Some(50),
            ..s()
        },
        Field {
            nullable: true,
            email: true,
            ..s()
        },
        Field {
            nullable: true,
            text: true,
            ..s()
        },
        Field {
            nullable: true,
            read_only: true,
            ..s()
        },
        Field {
            write_perm: true,
            max_length: Some(40),
            ..s()
        },
    ]
}

/// Struct names, unique within an app (and across apps unless
/// [`Features::same_names`]).
#[derive(Default)]
struct ModelNames {
    used: BTreeSet<(usize, String)>,
    any: BTreeSet<String>,
    plurals: BTreeSet<String>,
}

impl ModelNames {
    fn pick(
        &mut self,
        rng: &mut Rng,
        f: Features,
        index: usize,
        app: usize,
        models: &[Model],
    ) -> String {
        let reuse: Vec<String> = models
            .iter()
            .filter(|m| m.app != APPS[app] && !self.used.contains(&(app, m.name.to_lowercase())))
            .map(|m| m.name.clone())
            .collect();
        let wanted = match index {
            // The app's own `User` beside the built-in one.
            3 if f.same_names && app != 0 => Some("User".to_string()),
            _ if f.same_names && !reuse.is_empty() && (index == 4 || rng.chance(25)) => {
                Some(rng.pick(&reuse).clone())
            }
            5 | 9 if f.keyword_models => Some(rng.pick(KEYWORD_MODELS).to_string()),
            _ => None,
        };
        if let Some(name) = wanted
            && self.free(f, app, &name)
        {
            return self.take(app, name);
        }
        loop {
            let pools: &[&[&str]] = if f.keyword_models {
                &[
                    KEYWORD_MODELS,
                    SQL_MODELS,
                    LETTER_MODELS,
                    LONG_MODELS,
                    ORDINARY_MODELS,
                    ORDINARY_MODELS,
                ]
            } else {
                &[
                    SQL_MODELS,
                    LETTER_MODELS,
                    LONG_MODELS,
                    ORDINARY_MODELS,
                    ORDINARY_MODELS,
                ]
            };
            let pool = *rng.pick(pools);
            let mut name = rng.pick(pool).to_string();
            if rng.chance(10) {
                name = format!("{name}{}", rng.pick(ORDINARY_MODELS));
            }
            if self.free(f, app, &name) {
                return self.take(app, name);
            }
        }
    }

    fn free(&self, f: Features, app: usize, name: &str) -> bool {
        let lower = name.to_lowercase();
        let plural = pluralize(&snake(name));
        if self.used.contains(&(app, lower.clone())) {
            return false;
        }
        // The built-in auth models are served at /api/users and /api/groups.
        let builtin = ["user", "group", "permission", "contenttype"].contains(&lower.as_str());
        f.same_names || (!self.any.contains(&lower) && !self.plurals.contains(&plural) && !builtin)
    }

    fn take(&mut self, app: usize, name: String) -> String {
        self.used.insert((app, name.to_lowercase()));
        self.any.insert(name.to_lowercase());
        self.plurals.insert(pluralize(&snake(&name)));
        name
    }
}

/// Field names of one model.
struct FieldNames {
    used: BTreeSet<String>,
    raw: bool,
}

impl FieldNames {
    /// A fresh `(name, ident)`: the JSON name and the Rust identifier.
    fn pick(&mut self, rng: &mut Rng) -> (String, String) {
        loop {
            let roll = rng.below(100);
            let name = match roll {
                0..=14 if self.raw => rng.pick(RUST_KEYWORDS).to_string(),
                15..=34 => rng.pick(SQL_KEYWORDS).to_string(),
                35..=44 => rng.pick(LETTERS).to_string(),
                45..=51 => rng.pick(LONG).to_string(),
                _ => rng.pick(ORDINARY).to_string(),
            };
            let name = if self.used.contains(&name) && roll >= 45 {
                format!("{name}_{}", rng.pick(ORDINARY))
            } else {
                name
            };
            if self.reserve(&name) {
                let ident = self.ident(rng, &name);
                return (name, ident);
            }
        }
    }

    /// Claims `name` (and `name_id`, and for `x_id` the relation `x`) when free.
    fn reserve(&mut self, name: &str) -> bool {
        let base = name.strip_suffix("_id").unwrap_or(name);
        let taken = [name, base, &format!("{name}_id")]
            .iter()
            .any(|n| self.used.contains(*n) || RESERVED.contains(n));
        if taken {
            return false;
        }
        self.used.insert(name.to_string());
        self.used.insert(base.to_string());
        self.used.insert(format!("{name}_id"));
        true
    }

    fn ident(&self, rng: &mut Rng, name: &str) -> String {
        if RUST_KEYWORDS.contains(&name) || (self.raw && rng.chance(8)) {
            format!("r#{name}")
        } else {
            name.to_string()
        }
    }
}

fn build_model(
    rng: &mut Rng,
    f: Features,
    index: usize,
    app: usize,
    name: String,
    recipes: Vec<Field>,
    models: &[Model],
) -> Model {
    let mut names = FieldNames {
        used: BTreeSet::new(),
        raw: f.raw_idents,
    };
    let mut fields = vec![primary_key(rng, &mut names)];
    for mut field in recipes {
        let (n, ident) = names.pick(rng);
        field.name = n;
        field.ident = ident;
        if rng.chance(30) {
            field.doc = Some(format!(
                "The {} <b>field</b> & its \"help\" text.",
                field.name
            ));
        }
        fields.push(field);
    }
    foreign_keys(rng, f, index, app, &mut names, &mut fields, models);
    let snake_name = snake(&name);
    let custom_plural = rng.chance(15);
    let plural = if custom_plural {
        format!("{snake_name}_list")
    } else {
        pluralize(&snake_name)
    };
    let mut model = Model {
        index,
        app: APPS[app].to_string(),
        module: format!("app_{}", APPS[app]),
        model_name: name.to_lowercase(),
        plural,
        custom_plural,
        table: rng
            .chance(15)
            .then(|| format!("gen_{}_{index}", name.to_lowercase())),
        fields,
        ordering: Vec::new(),
        ignore_unknown: rng.chance(15),
        display: None,
        unique_together: Vec::new(),
        filter: Vec::new(),
        search: Vec::new(),
        orderable: Vec::new(),
        read: None,
        unpaged: rng.chance(15),
        policy: None,
        owner: None,
        own_rows_only: false,
        admin: Admin::default(),
        doc: format!(
            "Generated model {index}: `{name}` of app {}, with <tags> & \"quotes\".",
            APPS[app]
        ),
        name,
    };
    api_lists(rng, f, &mut model);
    model_options(rng, &mut model, models);
    admin_lists(rng, &mut model);
    model
}

fn primary_key(rng: &mut Rng, names: &mut FieldNames) -> Field {
    let roll = rng.below(100);
    let kind = match roll {
        0..=54 => Kind::I64,
        55..=64 => Kind::I32,
        65..=71 => Kind::I16,
        72..=84 => Kind::Uuid,
        _ => Kind::Str,
    };
    let (name, ident) = if rng.chance(75) {
        names.used.insert("id".into());
        ("id".to_string(), "id".to_string())
    } else {
        names.pick(rng)
    };
    Field {
        name,
        ident,
        primary_key: true,
        max_length: (kind == Kind::Str).then_some(40),
        ..Field::new("", kind)
    }
}

/// The kinds of foreign key every set covers, model by model.
#[derive(Clone, Copy, PartialEq)]
enum FkPlan {
    SameApp { nullable: bool },
    CrossApp { nullable: bool },
    SelfRef,
    AuthUser,
}

fn foreign_keys(
    rng: &mut Rng,
    f: Features,
    index: usize,
    app: usize,
    names: &mut FieldNames,
    fields: &mut Vec<Field>,
    models: &[Model],
) {
    const PLAN: [FkPlan; 6] = [
        FkPlan::SameApp { nullable: false },
        FkPlan::SameApp { nullable: true },
        FkPlan::SelfRef,
        FkPlan::CrossApp { nullable: false },
        FkPlan::CrossApp { nullable: true },
        FkPlan::AuthUser,
    ];
    let mut plans = vec![PLAN[index % PLAN.len()]];
    if rng.chance(40) {
        plans.push(*rng.pick(&PLAN));
    }
    for plan in plans {
        let (target, nullable) = match plan {
            FkPlan::SameApp { nullable } | FkPlan::CrossApp { nullable } => {
                let cross = matches!(plan, FkPlan::CrossApp { .. });
                let candidates: Vec<&Model> = models
                    .iter()
                    .filter(|m| m.primary_key().kind != Kind::Uuid)
                    .filter(|m| {
                        let other = APPS.iter().position(|a| *a == m.app).unwrap_or(0);
                        if cross {
                            f.cross_app && other < app
                        } else {
                            other == app
                        }
                    })
                    .collect();
                if candidates.is_empty() {
                    continue;
                }
                (Target::Model(rng.pick(&candidates).index), nullable)
            }
            FkPlan::SelfRef => {
                if fields[0].kind == Kind::Uuid {
                    continue;
                }
                (Target::Model(index), true)
            }
            FkPlan::AuthUser => (Target::AuthUser, rng.chance(50)),
        };
        let key_kind = match target {
            Target::AuthUser => Kind::I32,
            Target::Model(i) if i == index => fields[0].kind,
            Target::Model(i) => models[i].primary_key().kind,
        };
        let on_delete = match (nullable, rng.below(4)) {
            (_, 0) => None,
            (_, 1) => Some("cascade"),
            (true, 2) => Some("set_null"),
            _ => Some("restrict"),
        };
        let (name, ident) = fk_name(rng, names, target == Target::Model(index));
        fields.push(Field {
            name,
            ident,
            nullable,
            max_length: (key_kind == Kind::Str).then_some(40),
            foreign_key: Some(ForeignKey { target, on_delete }),
            ..Field::new("", key_kind)
        });
    }
}

fn fk_name(rng: &mut Rng, names: &mut FieldNames, self_ref: bool) -> (String, String) {
    loop {
        let base = if self_ref && rng.chance(50) {
            "parent".to_string()
        } else {
            names.pick(rng).0
        };
        names.used.remove(&base);
        names.used.remove(&format!("{base}_id"));
        // A bare keyword names the relation itself (`r#ref`), else `x_id`.
        let name = if names.raw && RUST_KEYWORDS.contains(&base.as_str()) && rng.chance(30) {
            base.clone()
        } else {
            format!("{base}_id")
        };
        if names.reserve(&name) {
            let ident = names.ident(rng, &name);
            return (name, ident);
        }
    }
}

/// Fields a list may filter or order on: shown, not JSON.
fn listable(field: &Field) -> bool {
    !field.is_secret() && field.kind != Kind::Json
}

fn api_lists(rng: &mut Rng, f: Features, model: &mut Model) {
    for field in &model.fields {
        let dated = matches!(field.kind, Kind::Date | Kind::DateTime);
        if listable(field) && (f.datetime_lookups || !dated) && rng.chance(60) {
            model.filter.push(field.name.clone());
        }
        if !field.is_secret() && field.kind == Kind::Str && rng.chance(70) {
            model.search.push(field.name.clone());
        }
        if listable(field) && rng.chance(50) {
            model.orderable.push(field.name.clone());
        }
    }
    if rng.chance(15) {
        let mut read = vec!["pk".to_string()];
        read.extend(
            model
                .fields
                .iter()
                .filter(|f| !f.primary_key && !f.is_secret() && rng.chance(50))
                .map(|f| f.name.clone()),
        );
        model.read = Some(read);
    }
    model.policy = match rng.below(8) {
        0 => Some("model_permissions"),
        1 => Some("authenticated"),
        2 => Some("public_read"),
        3 => Some("allow_any"),
        _ => None,
    };
    if model.policy.is_none() && rng.chance(20) {
        let owner = model
            .fields
            .iter_mut()
            .find(|f| matches!(&f.foreign_key, Some(fk) if fk.target == Target::AuthUser));
        if let Some(owner) = owner {
            owner.owner = true;
            model.owner = Some(owner.name.clone());
            model.own_rows_only = rng.chance(50);
        }
    }
}

fn model_options(rng: &mut Rng, model: &mut Model, models: &[Model]) {
    let shown: Vec<Field> = model
        .fields
        .iter()
        .filter(|f| listable(f))
        .cloned()
        .collect();
    if rng.chance(35) && !shown.is_empty() {
        let first = rng.pick(&shown);
        let sign = if rng.chance(50) { "-" } else { "" };
        model.ordering.push(format!("{sign}{}", first.name));
    }
    let relations: Vec<&Field> = model
        .fields
        .iter()
        .filter(|f| matches!(&f.foreign_key, Some(fk) if matches!(fk.target, Target::Model(_))))
        .collect();
    if rng.chance(20) && !relations.is_empty() {
        let fk = rng.pick(&relations);
        let relation = fk.name.strip_suffix("_id").unwrap_or(&fk.name).to_string();
        // The referenced primary key is always there and never secret.
        let target_pk = match fk.foreign_key.as_ref().map(|k| k.target) {
            Some(Target::Model(i)) if i == model.index => model.fields[0].name.clone(),
            Some(Target::Model(i)) => models[i].fields[0].name.clone(),
            _ => String::new(),
        };
        if !target_pk.is_empty() {
            model.ordering.push(format!("{relation}__{target_pk}"));
        }
    }
    if rng.chance(30) && !shown.is_empty() {
        let field = rng.pick(&shown);
        model.display = Some(format!(
            "{{{}}} ({{{{#{{{}}}}}}})",
            field.name, model.fields[0].name
        ));
    }
    let pairable: Vec<&Field> = shown.iter().filter(|f| !f.primary_key).collect();
    if rng.chance(15) && pairable.len() >= 2 {
        model.unique_together = vec![pairable[0].name.clone(), pairable[1].name.clone()];
    }
}

fn admin_lists(rng: &mut Rng, model: &mut Model) {
    let admin = &mut model.admin;
    for field in model.fields.iter().filter(|f| !f.is_secret()) {
        if rng.chance(40) && admin.list_display.len() < 5 {
            admin.list_display.push(field.name.clone());
        }
        let filterable = field.foreign_key.is_some()
            || matches!(
                field.kind,
                Kind::Bool | Kind::Choice(_) | Kind::Date | Kind::DateTime
            );
        if filterable && rng.chance(60) {
            admin.list_filter.push(field.name.clone());
        }
        if field.kind == Kind::Str && rng.chance(50) {
            admin.search.push(field.name.clone());
        }
        if field.foreign_key.is_some() && rng.chance(30) {
            admin.autocomplete.push(field.name.clone());
        }
    }
    if rng.chance(20) {
        admin.list_per_page = Some(5 + rng.below(200) as u32);
    }
    admin.hidden = rng.chance(8);
}

/// Models with a foreign key to another model become its inlines, sometimes.
fn add_inlines(rng: &mut Rng, models: &mut [Model]) {
    for child in 0..models.len() {
        let targets: Vec<usize> = models[child]
            .fields
            .iter()
            .filter_map(|f| match f.foreign_key.as_ref().map(|k| k.target) {
                Some(Target::Model(i)) if i != child => Some(i),
                _ => None,
            })
            .collect();
        for target in targets {
            if rng.chance(35) && !models[target].admin.inlines.contains(&child) {
                models[target].admin.inlines.push(child);
            }
        }
    }
}

/// `BlogPost` -> `blog_post`, as the derive names the entity module.
pub fn snake(name: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = name.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let after_lower =
                i > 0 && (chars[i - 1].is_lowercase() || chars[i - 1].is_ascii_digit());
            let before_lower = i > 0 && chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if after_lower || (before_lower && chars[i - 1].is_uppercase()) {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(*c);
        }
    }
    out
}

/// The derive's default plural (see `ferrobridge_codegen::attr::pluralize`).
pub fn pluralize(name: &str) -> String {
    if let Some(stem) = name.strip_suffix('y')
        && !stem.ends_with(['a', 'e', 'i', 'o', 'u'])
    {
        return format!("{stem}ies");
    }
    if name.ends_with('s') || name.ends_with('x') || name.ends_with("ch") || name.ends_with("sh") {
        return format!("{name}es");
    }
    format!("{name}s")
}

//! One model's fields compared: renames (from `--rename` or asked on a
//! terminal), changed, added and removed fields, and the one-off values
//! (`--default`) for rows of a field that becomes NOT NULL.

use super::super::state::ModelState;
use super::super::{
    AddField, AlterField, DbType, DefaultValue, Field, MigrationError, Operation, RemoveField,
    RenameField,
};
use super::DetectOptions;

/// `--default [app.]model.field=VALUE`: a one-off value for the rows of a
/// field that becomes NOT NULL (or is added NOT NULL) without a default.
#[derive(Clone, Debug, PartialEq)]
pub struct OneOffDefault {
    /// The app label, when given (needed only when two apps have the model).
    pub app: Option<String>,
    /// The model's lower-case name.
    pub model: String,
    /// The field.
    pub field: String,
    /// The value as written; parsed by the field's type.
    pub value: String,
}

impl OneOffDefault {
    /// Parses `[app.]model.field=VALUE`.
    pub fn parse(raw: &str) -> Result<OneOffDefault, MigrationError> {
        let usage = || MigrationError::OneOffDefaultSyntax {
            raw: raw.to_string(),
        };
        let (left, value) = raw.split_once('=').ok_or_else(usage)?;
        let parts: Vec<&str> = left.split('.').map(str::trim).collect();
        if parts.iter().any(|p| p.is_empty()) {
            return Err(usage());
        }
        let (app, model, field) = match parts[..] {
            [model, field] => (None, model, field),
            [app, model, field] => (Some(app.to_string()), model, field),
            _ => return Err(usage()),
        };
        Ok(OneOffDefault {
            app,
            model: model.to_lowercase(),
            field: field.to_string(),
            value: value.to_string(),
        })
    }

    fn names(&self, app: &str, model: &str, field: &str) -> bool {
        self.app.as_deref().is_none_or(|a| a == app) && self.model == model && self.field == field
    }

    /// The value as `field`'s type.
    fn value_for(&self, field: &Field) -> Result<DefaultValue, MigrationError> {
        let raw = self.value.trim();
        let bad = |expected: &'static str| MigrationError::OneOffDefaultValue {
            model: self.model.clone(),
            field: self.field.clone(),
            value: self.value.clone(),
            expected,
        };
        Ok(match field.db_type {
            DbType::SmallInteger | DbType::Integer | DbType::BigInteger => {
                DefaultValue::Int(raw.parse().map_err(|_| bad("an integer"))?)
            }
            DbType::Float | DbType::Double => {
                DefaultValue::Float(raw.parse().map_err(|_| bad("a number"))?)
            }
            DbType::Decimal(..) => {
                raw.parse::<f64>().map_err(|_| bad("a decimal number"))?;
                DefaultValue::Str(raw.to_string())
            }
            DbType::Boolean => DefaultValue::Bool(match raw {
                "true" | "True" | "1" => true,
                "false" | "False" | "0" => false,
                _ => return Err(bad("a bool (true or false)")),
            }),
            _ => DefaultValue::Str(self.value.clone()),
        })
    }
}

/// The fields one model lost and gained, and the pairs of them that are
/// renames (from `--rename`, or answered on a terminal).
struct FieldDiff<'a> {
    removed: Vec<&'a Field>,
    added: Vec<&'a Field>,
    renames: Vec<(&'a Field, &'a Field)>,
}

impl<'a> FieldDiff<'a> {
    /// What `new` lost and gained since `old`, no rename known yet.
    fn between(old: &'a ModelState, new: &'a ModelState) -> Self {
        FieldDiff {
            removed: old
                .fields
                .iter()
                .filter(|f| new.field(&f.name).is_none())
                .collect(),
            added: new
                .fields
                .iter()
                .filter(|f| old.field(&f.name).is_none())
                .collect(),
            renames: Vec::new(),
        }
    }

    /// Pairs the renames `--rename model.old=new` names for `model`; one
    /// that names no lost or no gained field is an error.
    fn rename_flagged(
        &mut self,
        model: &str,
        options: &DetectOptions<'_>,
    ) -> Result<(), MigrationError> {
        for (rename_model, old, new) in &options.renames {
            if rename_model != model {
                continue;
            }
            let source = self.removed.iter().position(|f| f.name == *old);
            let target = self.added.iter().position(|f| f.name == *new);
            let (model, old, new) = (model.to_string(), old.clone(), new.clone());
            match (source, target) {
                (Some(s), Some(t)) => {
                    let pair = (self.removed.remove(s), self.added.remove(t));
                    self.renames.push(pair);
                }
                (None, _) => return Err(MigrationError::RenameUnknownOldField { model, old, new }),
                (_, None) => return Err(MigrationError::RenameUnknownNewField { model, old, new }),
            }
        }
        Ok(())
    }

    /// A field gone and one of the same type new: asks whether it is a
    /// rename, never guesses; without a way to ask, that is an error.
    fn rename_asked(
        &mut self,
        app: &str,
        model: &str,
        options: &mut DetectOptions<'_>,
    ) -> Result<(), MigrationError> {
        let mut i = 0;
        while i < self.removed.len() {
            let gone = self.removed[i];
            let candidate = self
                .added
                .iter()
                .position(|f| f.db_type.rust_name() == gone.db_type.rust_name());
            let Some(j) = candidate else {
                i += 1;
                continue;
            };
            let fresh = self.added[j];
            let Some(ask) = options.ask.as_mut() else {
                return Err(MigrationError::PossibleRename {
                    app: app.to_string(),
                    model: model.to_string(),
                    old: gone.name.clone(),
                    new: fresh.name.clone(),
                });
            };
            if ask(&rename_question(model, gone, fresh)) {
                let pair = (self.removed.remove(i), self.added.remove(j));
                self.renames.push(pair);
            } else {
                i += 1;
            }
        }
        Ok(())
    }
}

/// `Did you rename post.title to post.headline (a String)? [y/N]`.
fn rename_question(model: &str, gone: &Field, fresh: &Field) -> String {
    let type_name = fresh.db_type.rust_name();
    // Said aloud: "an i32", "an f64", "a String", "a Uuid".
    let article = if type_name.starts_with(['i', 'f']) {
        "an"
    } else {
        "a"
    };
    format!(
        "Did you rename {model}.{} to {model}.{} ({article} {type_name})? [y/N]",
        gone.name, fresh.name,
    )
}

/// The field operations that take `old` to `new`: renames, alterations,
/// additions and removals, in that order.
pub(super) fn detect_fields(
    app: &str,
    old: &ModelState,
    new: &ModelState,
    options: &mut DetectOptions<'_>,
    used: &mut [bool],
) -> Result<Vec<Operation>, MigrationError> {
    let model = &new.name;
    let mut diff = FieldDiff::between(old, new);
    diff.rename_flagged(model, options)?;
    diff.rename_asked(app, model, options)?;
    let FieldDiff {
        removed,
        added,
        renames,
    } = diff;

    let mut operations = Vec::new();
    for (gone, fresh) in &renames {
        operations.push(Operation::RenameField(RenameField::new(
            model.clone(),
            gone.name.clone(),
            fresh.name.clone(),
        )));
        if gone.renamed(&fresh.name) != **fresh {
            operations.push(Operation::AlterField(AlterField::new(
                model.clone(),
                (*fresh).clone(),
            )));
        }
    }
    for field in &new.fields {
        if let Some(previous) = old.field(&field.name)
            && previous != field
        {
            if previous.primary_key != field.primary_key {
                return Err(MigrationError::PrimaryKeyChanged {
                    app: app.to_string(),
                    model: model.clone(),
                    field: field.name.clone(),
                });
            }
            let mut alter = AlterField::new(model.clone(), field.clone());
            if previous.null && !field.null && field.default.is_none() {
                let found = one_off(app, model, field, options, used)?;
                alter.one_off_default =
                    Some(found.ok_or_else(|| not_null_refusal(app, model, field, false))?);
            }
            operations.push(Operation::AlterField(alter));
        }
    }
    for field in added {
        let mut add = AddField::new(model.clone(), field.clone());
        if !field.null && field.default.is_none() {
            let found = one_off(app, model, field, options, used)?;
            add.one_off_default =
                Some(found.ok_or_else(|| not_null_refusal(app, model, field, true))?);
        }
        operations.push(Operation::AddField(add));
    }
    for field in removed {
        operations.push(Operation::RemoveField(RemoveField::new(
            model.clone(),
            field.name.clone(),
        )));
    }
    Ok(operations)
}

/// The `--default` given for `app.model.field`, as the field's type.
fn one_off(
    app: &str,
    model: &str,
    field: &Field,
    options: &DetectOptions<'_>,
    used: &mut [bool],
) -> Result<Option<DefaultValue>, MigrationError> {
    let Some(i) = options
        .defaults
        .iter()
        .position(|d| d.names(app, model, &field.name))
    else {
        return Ok(None);
    };
    used[i] = true;
    options.defaults[i].value_for(field).map(Some)
}

/// Why a NOT NULL field without a default cannot be written as it is, and
/// the three ways out (Django asks for a one-off value on a terminal).
fn not_null_refusal(app: &str, model: &str, field: &Field, added: bool) -> MigrationError {
    let (app, model, rust_type) = (
        app.to_string(),
        model.to_string(),
        field.db_type.rust_name(),
    );
    let field = field.name.clone();
    if added {
        MigrationError::AddedNotNullWithoutDefault {
            app,
            model,
            field,
            rust_type,
        }
    } else {
        MigrationError::MadeNotNullWithoutDefault {
            app,
            model,
            field,
            rust_type,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_off_defaults_parse_or_say_how_to_write_them() {
        let given = OneOffDefault::parse("blog.Post.rating=0").expect("app, model, field");
        assert_eq!(given.app.as_deref(), Some("blog"));
        assert_eq!(
            (given.model.as_str(), given.field.as_str()),
            ("post", "rating")
        );
        assert_eq!(given.value, "0");
        for raw in ["rating=0", "post.rating", "a.b.c.d=1", "post..rating=1"] {
            assert!(
                matches!(OneOffDefault::parse(raw), Err(MigrationError::OneOffDefaultSyntax { raw: r }) if r == raw),
                "{raw}"
            );
        }
        let many = OneOffDefault::parse("post.rating=many").expect("parses");
        let error = many
            .value_for(&Field::integer("rating"))
            .expect_err("no integer");
        assert!(
            matches!(&error, MigrationError::OneOffDefaultValue { expected, .. } if *expected == "an integer"),
            "{error:?}"
        );
        assert_eq!(
            error.to_string(),
            "--default post.rating=many: `rating` is an integer, and `many` is not one"
        );
    }
}

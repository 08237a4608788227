//! The plan: every registered migration as a graph (each after the
//! previous one of its app, after those it `depends_on`, and after the
//! migration creating a table it holds a foreign key to), the order that
//! graph gives, the state before any migration, and the steps that bring a
//! database to a target. No SQL here: the runner ([`super::runner`]) runs
//! the steps and reads what is applied.

use std::collections::{BTreeSet, HashMap};

use super::state::ProjectState;
use super::{AppMigrations, Field, Migration, MigrationError, Operation};

/// Every registered app's migrations, and what can be computed from them.
#[derive(Clone, Debug, Default)]
pub struct Migrator {
    apps: Vec<AppMigrations>,
    /// Dependencies read from the operations: a migration with a foreign key
    /// to a table another app's migration creates comes after it, even when
    /// its file (written before makemigrations declared them) does not say so.
    implicit: HashMap<Key, Vec<Key>>,
}

/// One migration to apply (or unapply) in a plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// Its app label.
    pub app: String,
    /// Its name.
    pub name: String,
    /// Unapply it instead of applying it.
    pub backwards: bool,
}

/// The migrations `migrate` will run, in order.
#[derive(Clone, Debug, Default)]
pub struct MigrationPlan {
    /// The steps, in the order they run.
    pub steps: Vec<Step>,
}

/// A migration named by `(app label, name)`.
pub(super) type Key = (String, String);

impl Migrator {
    /// The migrations of `apps`, applied in dependency order (ties by registration order).
    pub fn new(apps: Vec<AppMigrations>) -> Self {
        let implicit = implicit_dependencies(&apps);
        Migrator { apps, implicit }
    }

    /// The registered apps' migrations.
    pub fn apps(&self) -> &[AppMigrations] {
        &self.apps
    }

    /// The migrations of app `app`.
    pub fn app(&self, app: &str) -> Option<&AppMigrations> {
        self.apps.iter().find(|a| a.app == app)
    }

    pub(super) fn migration(&self, key: &Key) -> Option<&Migration> {
        self.app(&key.0).and_then(|a| a.get(&key.1))
    }

    /// What `key` must come after: the previous migration of its app and its
    /// declared dependencies.
    fn dependencies(&self, key: &Key) -> Vec<Key> {
        let Some(app) = self.app(&key.0) else {
            return Vec::new();
        };
        let Some(position) = app.migrations.iter().position(|m| m.name == key.1) else {
            return Vec::new();
        };
        let mut deps: Vec<Key> = Vec::new();
        if position > 0 {
            deps.push((key.0.clone(), app.migrations[position - 1].name.clone()));
        }
        deps.extend(app.migrations[position].dependencies.iter().cloned());
        deps
    }

    /// `key` and everything it declares it comes after, directly or not.
    fn declared_closure(&self, key: &Key) -> BTreeSet<Key> {
        let mut set = BTreeSet::new();
        let mut stack = vec![key.clone()];
        while let Some(key) = stack.pop() {
            if set.insert(key.clone()) {
                stack.extend(self.dependencies(&key));
            }
        }
        set
    }

    /// The declared dependencies, then those read from foreign keys.
    fn all_dependencies(&self, key: &Key) -> Vec<Key> {
        let mut deps = self.dependencies(key);
        deps.extend(self.implicit.get(key).into_iter().flatten().cloned());
        deps
    }

    /// Every migration in an order where each comes after what it depends on.
    pub fn full_order(&self) -> Result<Vec<Key>, MigrationError> {
        let mut order: Vec<Key> = Vec::new();
        let mut done: BTreeSet<Key> = BTreeSet::new();
        let mut visiting: BTreeSet<Key> = BTreeSet::new();
        for app in &self.apps {
            for migration in &app.migrations {
                self.visit(
                    (app.app.clone(), migration.name.clone()),
                    &mut order,
                    &mut done,
                    &mut visiting,
                )?;
            }
        }
        Ok(order)
    }

    fn visit(
        &self,
        key: Key,
        order: &mut Vec<Key>,
        done: &mut BTreeSet<Key>,
        visiting: &mut BTreeSet<Key>,
    ) -> Result<(), MigrationError> {
        if done.contains(&key) {
            return Ok(());
        }
        if self.migration(&key).is_none() {
            return Err(MigrationError::UnregisteredDependency {
                app: key.0,
                name: key.1,
            });
        }
        if !visiting.insert(key.clone()) {
            return Err(MigrationError::DependencyCycle {
                app: key.0,
                name: key.1,
            });
        }
        for dep in self.dependencies(&key) {
            self.visit(dep, order, done, visiting)?;
        }
        // Read from foreign keys, not declared: skipped where they would close a cycle.
        for dep in self.implicit.get(&key).into_iter().flatten() {
            let closes_cycle = self
                .declared_closure(dep)
                .iter()
                .any(|k| visiting.contains(k));
            if !closes_cycle {
                self.visit(dep.clone(), order, done, visiting)?;
            }
        }
        visiting.remove(&key);
        done.insert(key.clone());
        order.push(key);
        Ok(())
    }

    /// The state after every registered migration.
    pub fn state(&self) -> Result<ProjectState, MigrationError> {
        let mut state = ProjectState::default();
        for key in self.full_order()? {
            let migration = self.migration(&key).expect("ordered keys exist");
            state.apply_migration(&key.0, migration)?;
        }
        Ok(state)
    }

    /// The state just before migration `name` of `app` (every migration
    /// ordered before it applied).
    pub(super) fn state_before(
        &self,
        app: &str,
        name: &str,
    ) -> Result<ProjectState, MigrationError> {
        let mut state = ProjectState::default();
        for key in self.full_order()? {
            if key.0 == app && key.1 == name {
                return Ok(state);
            }
            let migration = self.migration(&key).expect("ordered keys exist");
            state.apply_migration(&key.0, migration)?;
        }
        Err(MigrationError::UnknownMigration {
            app: app.to_string(),
            name: name.to_string(),
        })
    }

    /// Migration names of `app` that start with `prefix` (`0002` finds `0002_post_subtitle`).
    fn resolve(&self, app: &str, prefix: &str) -> Result<String, MigrationError> {
        let migrations = self.app(app).ok_or_else(|| no_migrations(app))?;
        if let Some(m) = migrations.get(prefix) {
            return Ok(m.name.clone());
        }
        let found: Vec<&Migration> = migrations
            .migrations
            .iter()
            .filter(|m| m.name.starts_with(prefix))
            .collect();
        match found.as_slice() {
            [one] => Ok(one.name.clone()),
            [] => Err(MigrationError::NoMatchingMigration {
                app: app.to_string(),
                prefix: prefix.to_string(),
            }),
            _ => Err(MigrationError::AmbiguousPrefix {
                app: app.to_string(),
                prefix: prefix.to_string(),
            }),
        }
    }

    /// The steps that bring the database to `target`: every pending
    /// migration (`None`), those of one app (`(app, None)`), up or down to a
    /// named one (`(app, Some(name))`), or none of an app (`(app, Some("zero"))`).
    pub fn plan(
        &self,
        applied: &BTreeSet<Key>,
        target: Option<(&str, Option<&str>)>,
    ) -> Result<MigrationPlan, MigrationError> {
        let order = self.full_order()?;
        let forwards = |wanted: &BTreeSet<Key>| -> MigrationPlan {
            MigrationPlan {
                steps: order
                    .iter()
                    .filter(|k| wanted.contains(*k) && !applied.contains(*k))
                    .map(|k| Step {
                        app: k.0.clone(),
                        name: k.1.clone(),
                        backwards: false,
                    })
                    .collect(),
            }
        };
        let Some((app, name)) = target else {
            return Ok(forwards(&order.iter().cloned().collect()));
        };
        let migrations = self.app(app).ok_or_else(|| no_migrations(app))?;
        let name = match name {
            None => {
                let wanted = migrations
                    .migrations
                    .iter()
                    .map(|m| (app.to_string(), m.name.clone()))
                    .collect::<Vec<_>>();
                return Ok(forwards(&self.with_dependencies(wanted)));
            }
            Some("zero") => None,
            Some(prefix) => Some(self.resolve(app, prefix)?),
        };
        let position = match &name {
            Some(name) => migrations.migrations.iter().position(|m| &m.name == name),
            None => None,
        };
        let later: Vec<Key> = migrations
            .migrations
            .iter()
            .skip(position.map_or(0, |p| p + 1))
            .map(|m| (app.to_string(), m.name.clone()))
            .filter(|k| applied.contains(k))
            .collect();
        let target_applied = name
            .as_ref()
            .is_none_or(|n| applied.contains(&(app.to_string(), n.clone())));
        if target_applied && !later.is_empty() {
            let unapply = self.with_dependents(later, applied);
            return Ok(MigrationPlan {
                steps: order
                    .iter()
                    .rev()
                    .filter(|k| unapply.contains(*k))
                    .map(|k| Step {
                        app: k.0.clone(),
                        name: k.1.clone(),
                        backwards: true,
                    })
                    .collect(),
            });
        }
        match name {
            Some(name) => Ok(forwards(
                &self.with_dependencies(vec![(app.to_string(), name)]),
            )),
            None => Ok(MigrationPlan::default()),
        }
    }

    fn with_dependencies(&self, keys: Vec<Key>) -> BTreeSet<Key> {
        let mut set = BTreeSet::new();
        let mut stack = keys;
        while let Some(key) = stack.pop() {
            if set.insert(key.clone()) {
                stack.extend(self.all_dependencies(&key));
            }
        }
        set
    }

    fn with_dependents(&self, keys: Vec<Key>, applied: &BTreeSet<Key>) -> BTreeSet<Key> {
        let mut dependents: HashMap<Key, Vec<Key>> = HashMap::new();
        for app in &self.apps {
            for migration in &app.migrations {
                let key = (app.app.clone(), migration.name.clone());
                for dep in self.all_dependencies(&key) {
                    dependents.entry(dep).or_default().push(key.clone());
                }
            }
        }
        let mut set = BTreeSet::new();
        let mut stack = keys;
        while let Some(key) = stack.pop() {
            if applied.contains(&key) && set.insert(key.clone()) {
                stack.extend(dependents.get(&key).cloned().unwrap_or_default());
            }
        }
        set
    }
}

/// For each migration, the migrations of other apps that create a table its
/// operations hold a foreign key to.
fn implicit_dependencies(apps: &[AppMigrations]) -> HashMap<Key, Vec<Key>> {
    let mut creators: HashMap<&str, Key> = HashMap::new();
    for app in apps {
        for migration in &app.migrations {
            for operation in &migration.operations {
                if let Operation::CreateModel(op) = operation {
                    creators
                        .entry(op.table.as_str())
                        .or_insert_with(|| (app.app.clone(), migration.name.clone()));
                }
            }
        }
    }
    let mut implicit: HashMap<Key, Vec<Key>> = HashMap::new();
    for app in apps {
        for migration in &app.migrations {
            let key = (app.app.clone(), migration.name.clone());
            for operation in &migration.operations {
                let fields: Vec<&Field> = match operation {
                    Operation::CreateModel(op) => op.fields.iter().collect(),
                    Operation::AddField(op) => vec![&op.field],
                    Operation::AlterField(op) => vec![&op.field],
                    _ => Vec::new(),
                };
                for table in fields.iter().filter_map(|f| f.references.as_ref()) {
                    let Some(creator) = creators.get(table.table.as_str()) else {
                        continue;
                    };
                    let deps = implicit.entry(key.clone()).or_default();
                    if creator.0 != app.app && !deps.contains(creator) {
                        deps.push(creator.clone());
                    }
                }
            }
        }
    }
    implicit
}

fn no_migrations(app: &str) -> MigrationError {
    MigrationError::NoMigrations {
        app: app.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migrations::{AddField, Field};

    fn app(label: &str, migrations: Vec<Migration>) -> AppMigrations {
        migrations.into_iter().fold(
            AppMigrations::new(label, "/nowhere", "src/migrations"),
            AppMigrations::migration,
        )
    }

    #[test]
    fn a_cycle_of_declared_dependencies_is_refused() {
        let left = app(
            "left",
            vec![Migration::new("0001_initial").depends_on("right", "0001_initial")],
        );
        let right = app(
            "right",
            vec![Migration::new("0001_initial").depends_on("left", "0001_initial")],
        );
        let error = Migrator::new(vec![left, right])
            .full_order()
            .expect_err("a cycle");
        assert!(
            matches!(&error, MigrationError::DependencyCycle { app, name }
                if app == "left" && name == "0001_initial"),
            "{error:?}"
        );
        assert!(error.to_string().contains(".depends_on(...)"), "{error}");
    }

    #[test]
    fn a_dependency_nobody_registers_is_named() {
        let blog = app(
            "blog",
            vec![Migration::new("0001_initial").depends_on("shop", "0001_initial")],
        );
        let error = Migrator::new(vec![blog]).state().expect_err("no shop");
        assert!(
            matches!(&error, MigrationError::UnregisteredDependency { app, .. } if app == "shop"),
            "{error:?}"
        );
    }

    #[test]
    fn a_target_names_one_migration_by_its_start() {
        let blog = app(
            "blog",
            vec![
                Migration::new("0001_initial"),
                Migration::new("0002_post_add_subtitle"),
                Migration::new("0002_post_add_summary"),
            ],
        );
        let migrator = Migrator::new(vec![blog]);
        let applied = BTreeSet::new();
        let plan = |name: &str| migrator.plan(&applied, Some(("blog", Some(name))));
        let steps = plan("0001").expect("one match").steps;
        assert_eq!(steps.len(), 1);
        assert_eq!(steps[0].name, "0001_initial");
        assert!(matches!(
            plan("0002").expect_err("two match"),
            MigrationError::AmbiguousPrefix { prefix, .. } if prefix == "0002"
        ));
        assert!(matches!(
            plan("0009").expect_err("none matches"),
            MigrationError::NoMatchingMigration { prefix, .. } if prefix == "0009"
        ));
        assert!(matches!(
            migrator.plan(&applied, Some(("shop", None))),
            Err(MigrationError::NoMigrations { app }) if app == "shop"
        ));
    }

    #[test]
    fn a_migration_that_does_not_replay_names_itself_and_the_cause() {
        let blog = app(
            "blog",
            vec![
                Migration::new("0001_initial")
                    .operation(AddField::new("post", Field::string("title"))),
            ],
        );
        let error = Migrator::new(vec![blog]).state().expect_err("no post");
        assert!(
            matches!(&error, MigrationError::InMigration { name, .. } if name == "0001_initial"),
            "{error:?}"
        );
        assert!(
            matches!(error.root(), MigrationError::UnknownModel { model, .. } if model == "post"),
            "{error:?}"
        );
        assert_eq!(
            error.to_string(),
            "migration blog.0001_initial: app `blog` has no model `post`"
        );
    }
}

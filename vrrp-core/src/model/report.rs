//! Running the checker and what it found.

use core::fmt;

use stateright::{Checker, HasDiscoveries, Model};

use super::properties::{Builtin, HANDOVER_DONE, QUIESCENT};
use super::system::VrrpModel;

/// How a check runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RunOptions {
    pub(crate) threads: usize,
    pub(crate) max_states: Option<usize>,
    pub(crate) max_depth: Option<usize>,
    pub(crate) stop_at_first_violation: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            threads: 1,
            max_states: None,
            max_depth: None,
            stop_at_first_violation: false,
        }
    }
}

/// A property that does not hold, with the shortest path to a state that shows it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Violation {
    /// The property's name.
    pub property: &'static str,
    /// Where a built-in property comes from (empty for user properties).
    pub basis: &'static str,
    /// The steps from the start, each with the model time it was taken at.
    pub trace: Vec<String>,
    /// The state that violates the property.
    pub last_state: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "property violated: {}", self.property)?;
        if !self.basis.is_empty() {
            writeln!(f, "  from {}", self.basis)?;
        }
        for (i, step) in self.trace.iter().enumerate() {
            writeln!(f, "  {:>3}. {step}", i + 1)?;
        }
        write!(f, "  state: {}", self.last_state)
    }
}

/// The outcome of a check.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Report {
    /// Distinct states explored.
    pub unique_states: usize,
    /// States generated, repeats included.
    pub states: usize,
    /// The longest path explored, in steps.
    pub max_depth: usize,
    /// Whether the search ran to its end: every reachable state explored, or every property
    /// decided; `false` when a bound of the run ([`super::ModelBuilder::max_states`],
    /// [`super::ModelBuilder::max_depth`]) or [`super::ModelBuilder::stop_at_first_violation`]
    /// cut it short.
    pub complete: bool,
    /// Properties that do not hold.
    pub violations: Vec<Violation>,
    /// Names of [`super::ModelBuilder::reachable`] properties for which no state was found.
    pub unreached: Vec<&'static str>,
    /// Whether some quiescent state was reached (otherwise the state properties held
    /// vacuously).
    pub quiescence_reached: bool,
    /// Whether some clean planned hand-over completed (`None` without hand-over choices).
    pub handover_completed: Option<bool>,
}

impl Report {
    /// Whether every property held, every reachability claim was met, and the search was
    /// complete.
    pub fn holds(&self) -> bool {
        self.violations.is_empty() && self.unreached.is_empty() && self.complete
    }

    /// The violation of the property named `property`, if any.
    pub fn violation(&self, property: &str) -> Option<&Violation> {
        self.violations.iter().find(|v| v.property == property)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} unique states ({} generated), max depth {}, {}",
            self.unique_states,
            self.states,
            self.max_depth,
            if self.complete {
                "complete"
            } else {
                "incomplete"
            }
        )?;
        if !self.quiescence_reached {
            writeln!(f, "no quiescent state was reached")?;
        }
        if self.handover_completed == Some(false) {
            writeln!(f, "no planned hand-over completed")?;
        }
        for name in &self.unreached {
            writeln!(f, "not reached: {name}")?;
        }
        for v in &self.violations {
            writeln!(f, "{v}")?;
        }
        Ok(())
    }
}

impl VrrpModel {
    /// Explores every state reachable within the choices' budgets (breadth first, so each
    /// counterexample is a shortest one) and reports what held.
    pub fn check(self) -> Report {
        let run = self.run;
        let always: Vec<&'static str> = self
            .properties()
            .iter()
            .filter(|p| p.expectation == stateright::Expectation::Always)
            .map(|p| p.name)
            .collect();
        let reachable: Vec<&'static str> = self.sometimes.iter().map(|p| p.name).collect();
        let handovers = self.choices.shutdowns > 0 || self.choices.hand_overs > 0;
        let builtin_basis = |name: &str| {
            Builtin::ALL
                .into_iter()
                .find(|b| b.name() == name)
                .map_or("", Builtin::basis)
        };
        let mut builder = self.checker().threads(run.threads.max(1));
        if let Some(n) = run.max_states {
            builder = builder.target_state_count(n);
        }
        if let Some(d) = run.max_depth {
            builder = builder.target_max_depth(d);
        }
        if run.stop_at_first_violation {
            builder = builder.finish_when(HasDiscoveries::AnyFailures);
        }
        let checker = builder.spawn_bfs().join();
        let discoveries = checker.discoveries();
        let model = checker.model();
        let conditions = model.properties();
        let mut violations: Vec<Violation> = always
            .iter()
            .filter_map(|name| {
                let path = discoveries.get(name)?;
                let condition = conditions.iter().find(|p| p.name == *name)?.condition;
                let steps = path.clone().into_vec();
                // stateright keeps the last violating state it saw; the trace ends at the
                // first violating state of its path.
                let end = steps
                    .iter()
                    .position(|(state, _)| !condition(model, state))
                    .unwrap_or(steps.len().saturating_sub(1));
                let trace = steps[..end]
                    .iter()
                    .filter_map(|(state, step)| {
                        step.as_ref().map(|step| {
                            format!("t={:?} {}", state.elapsed(), model.format_action(step))
                        })
                    })
                    .collect();
                Some(Violation {
                    property: name,
                    basis: builtin_basis(name),
                    trace,
                    last_state: format!("{:?}", steps[end].0),
                })
            })
            .collect();
        violations.sort_by_key(|v| v.property);
        let states = checker.state_count();
        let stopped = run.stop_at_first_violation && !violations.is_empty();
        let complete = !stopped
            && run.max_states.is_none_or(|n| states < n)
            && run.max_depth.is_none_or(|d| checker.max_depth() < d);
        Report {
            unique_states: checker.unique_state_count(),
            states,
            max_depth: checker.max_depth(),
            complete,
            violations,
            unreached: reachable
                .into_iter()
                .filter(|name| !discoveries.contains_key(name))
                .collect(),
            quiescence_reached: discoveries.contains_key(QUIESCENT),
            handover_completed: handovers.then(|| discoveries.contains_key(HANDOVER_DONE)),
        }
    }
}

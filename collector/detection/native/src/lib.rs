//! The literal pre-filter's per-event stage in one call (see collector/detection/prefilter.py for the
//! model): walk a route's fields in the decoded event, lower-case each text, look whole texts up and
//! scan them for literals, then gather the rules whose anchor and other clauses are all satisfied.
//!
//! Soundness rests on two points. ASCII text is lower-cased here (exactly what `str.lower()` does to
//! ASCII); any other text is lower-cased by calling `str.lower()` itself, so Unicode special cases
//! (`İ`, final sigma, the Unicode version Python was built with) are Python's. Everything that is not a
//! plain string in plain dicts (lists, numbers, flat dotted keys) goes through the view's own `lowered()`.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use aho_corasick::AhoCorasick;
use pyo3::exceptions::PyValueError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};

/// FxHash: whole-value lookups hash short texts, for which SipHash's setup dominates.
#[derive(Default)]
struct Fx(u64);

impl Hasher for Fx {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut hash = self.0;
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let word = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
            hash = (hash.rotate_left(5) ^ word).wrapping_mul(K);
        }
        for &byte in chunks.remainder() {
            hash = (hash.rotate_left(5) ^ u64::from(byte)).wrapping_mul(K);
        }
        self.0 = hash;
    }
    fn write_u8(&mut self, byte: u8) {
        self.write(&[byte]);
    }
    fn write_usize(&mut self, value: usize) {
        self.write(&value.to_le_bytes());
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<Fx>>;

struct Field {
    name: Py<PyString>,
    flat: Option<Py<PyString>>,
    reference: Py<PyAny>,
    equal: FxMap<Box<[u8]>, Box<[u32]>>,
    automaton: Option<AhoCorasick>,
    contained: Box<[Box<[u32]>]>,
}

impl Field {
    fn scan(&self, text: &[u8], satisfied: &mut [u64]) {
        if let Some(clauses) = self.equal.get(text) {
            set_all(satisfied, clauses);
        }
        if let Some(automaton) = &self.automaton {
            for hit in automaton.find_overlapping_iter(text) {
                set_all(satisfied, &self.contained[hit.pattern().as_usize()]);
            }
        }
    }
}

fn set_all(bits: &mut [u64], clauses: &[u32]) {
    for &clause in clauses {
        bits[(clause >> 6) as usize] |= 1u64 << (clause & 63);
    }
}

fn is_set(bits: &[u64], clause: u32) -> bool {
    bits[(clause >> 6) as usize] & (1u64 << (clause & 63)) != 0
}

struct Group {
    parent: Box<[Py<PyString>]>,
    fields: Box<[Field]>,
}

struct Filed {
    alone: Box<[u32]>,
    guarded: Box<[(u32, Box<[u32]>)]>,
}

/// (anchor clause id, positions of rules needing only it, (position, other clause ids) of the rest)
type FiledSpec = (u32, Vec<u32>, Vec<(u32, Vec<u32>)>);
/// (name under the parent, flat dotted key or None, FieldRef, contained literals, whole-value literals)
type FieldSpec = (
    String,
    Option<String>,
    Py<PyAny>,
    Vec<(String, Vec<u32>)>,
    Vec<(String, Vec<u32>)>,
);

/// One route's index: built once from the tables RouteIndex computes, immutable afterwards.
#[pyclass(frozen, module = "collector.detection._prefilter_native")]
struct NativeIndex {
    groups: Box<[Group]>,
    filed: Box<[Option<Filed>]>,
    always: Box<[u32]>,
    rules: Box<[Py<PyAny>]>,
    words: usize,
}

#[pymethods]
impl NativeIndex {
    #[new]
    fn new(
        py: Python<'_>,
        groups: Vec<(Vec<String>, Vec<FieldSpec>)>,
        filed: Vec<FiledSpec>,
        always: Vec<u32>,
        rules: Vec<Py<PyAny>>,
        clause_count: u32,
    ) -> PyResult<Self> {
        let key = |text: &str| PyString::intern(py, text).unbind();
        let mut built = Vec::with_capacity(groups.len());
        for (parent, fields) in groups {
            let mut made = Vec::with_capacity(fields.len());
            for (name, flat, reference, contained, equal) in fields {
                let automaton = if contained.is_empty() {
                    None
                } else {
                    let literals = contained.iter().map(|(literal, _)| literal.as_bytes());
                    // No prefilter: field texts are short and an overlapping search restarts it at every
                    // hit (worst case: candidates 12.8 -> 11.6 µs per event; Linux stream unchanged).
                    let automaton = AhoCorasick::builder().prefilter(false).build(literals);
                    Some(automaton.map_err(|error| PyValueError::new_err(error.to_string()))?)
                };
                for (_, clauses) in contained.iter().chain(equal.iter()) {
                    if clauses.iter().any(|&clause| clause >= clause_count) {
                        return Err(PyValueError::new_err("clause id out of range"));
                    }
                }
                made.push(Field {
                    name: key(&name),
                    flat: flat.as_deref().map(key),
                    reference,
                    equal: equal
                        .into_iter()
                        .map(|(literal, clauses)| {
                            (literal.into_bytes().into_boxed_slice(), clauses.into())
                        })
                        .collect(),
                    automaton,
                    contained: contained
                        .into_iter()
                        .map(|(_, clauses)| clauses.into_boxed_slice())
                        .collect(),
                });
            }
            built.push(Group {
                parent: parent.iter().map(|part| key(part)).collect(),
                fields: made.into(),
            });
        }
        let rule_count = rules.len() as u32;
        let positions = filed
            .iter()
            .flat_map(|(_, alone, guarded)| {
                alone
                    .iter()
                    .chain(guarded.iter().map(|(position, _)| position))
            })
            .chain(always.iter());
        let clauses = filed.iter().flat_map(|(anchor, _, guarded)| {
            std::iter::once(anchor).chain(guarded.iter().flat_map(|(_, rest)| rest.iter()))
        });
        if positions
            .into_iter()
            .any(|&position| position >= rule_count)
        {
            return Err(PyValueError::new_err("rule position out of range"));
        }
        if clauses.into_iter().any(|&clause| clause >= clause_count) {
            return Err(PyValueError::new_err("clause id out of range"));
        }
        let mut table: Vec<Option<Filed>> = (0..clause_count).map(|_| None).collect();
        for (anchor, alone, guarded) in filed {
            table[anchor as usize] = Some(Filed {
                alone: alone.into(),
                guarded: guarded
                    .into_iter()
                    .map(|(position, rest)| (position, rest.into()))
                    .collect(),
            });
        }
        Ok(NativeIndex {
            groups: built.into(),
            filed: table.into(),
            always: always.into(),
            rules: rules.into(),
            words: (clause_count as usize).div_ceil(64).max(1),
        })
    }

    /// The candidate rules for `view` (an EventView), in load order; None when the event is not a plain
    /// dict or a text is not valid UTF-8 (a lone surrogate): the caller then takes the Python path.
    fn candidates<'py>(
        &self,
        py: Python<'py>,
        view: &Bound<'py, PyAny>,
    ) -> PyResult<Option<Bound<'py, PyList>>> {
        let event = view.getattr(intern!(py, "event"))?;
        let Ok(event) = event.cast_exact::<PyDict>() else {
            return Ok(None);
        };
        let mut scan = EventScan {
            py,
            view,
            event,
            satisfied: vec![0u64; self.words],
            lowered: Vec::with_capacity(256),
        };
        for group in self.groups.iter() {
            if !scan.group(group)? {
                return Ok(None);
            }
        }
        let satisfied = scan.satisfied;
        let mut positions: Vec<u32> = self.always.to_vec();
        for (word_index, &word) in satisfied.iter().enumerate() {
            let mut bits = word;
            while bits != 0 {
                let clause = (word_index as u32) * 64 + bits.trailing_zeros();
                bits &= bits - 1;
                if let Some(filed) = &self.filed[clause as usize] {
                    positions.extend_from_slice(&filed.alone);
                    for (position, rest) in filed.guarded.iter() {
                        if rest.iter().all(|&other| is_set(&satisfied, other)) {
                            positions.push(*position);
                        }
                    }
                }
            }
        }
        positions.sort_unstable();
        let rules = positions
            .iter()
            .map(|&position| self.rules[position as usize].bind(py));
        Ok(Some(PyList::new(py, rules)?))
    }
}

/// One event's walk. Each step returns false when the event needs the Python path after all.
struct EventScan<'a, 'py> {
    py: Python<'py>,
    view: &'a Bound<'py, PyAny>,
    event: &'a Bound<'py, PyDict>,
    satisfied: Vec<u64>,
    lowered: Vec<u8>,
}

impl<'py> EventScan<'_, 'py> {
    /// The fields under one parent object, which is looked up once (as RouteIndex's Python walk does:
    /// a null counts as absent, anything but a plain dict sends its fields to the general path).
    fn group(&mut self, group: &Group) -> PyResult<bool> {
        let py = self.py;
        let mut node: Option<Bound<'py, PyAny>> = Some(self.event.clone().into_any());
        for part in group.parent.iter() {
            let Some(dict) = node
                .as_ref()
                .and_then(|current| current.cast_exact::<PyDict>().ok())
            else {
                break;
            };
            node = dict
                .get_item(part.bind(py))?
                .filter(|child| !child.is_none());
        }
        if let Some(parent) = node
            .as_ref()
            .and_then(|current| current.cast_exact::<PyDict>().ok())
        {
            for field in group.fields.iter() {
                let value = parent
                    .get_item(field.name.bind(py))?
                    .filter(|value| !value.is_none());
                let done = match value {
                    Some(value) => match value.cast_exact::<PyString>() {
                        Ok(text) => self.text(field, text)?,
                        Err(_) => self.general(field)?,
                    },
                    None => !self.flat_present(field)? || self.general(field)?,
                };
                if !done {
                    return Ok(false);
                }
            }
            return Ok(true);
        }
        for field in group.fields.iter() {
            if (node.is_some() || self.flat_present(field)?) && !self.general(field)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn flat_present(&self, field: &Field) -> PyResult<bool> {
        match &field.flat {
            Some(flat) => self.event.contains(flat.bind(self.py)),
            None => Ok(false),
        }
    }

    /// A plain string: ASCII lowered here (what str.lower() does to ASCII), anything else by str.lower().
    fn text(&mut self, field: &Field, value: &Bound<'py, PyString>) -> PyResult<bool> {
        let Ok(text) = value.to_str() else {
            return Ok(false);
        };
        let bytes = text.as_bytes();
        if bytes.is_ascii() {
            self.lowered.clear();
            self.lowered
                .extend(bytes.iter().map(u8::to_ascii_lowercase));
            field.scan(&self.lowered, &mut self.satisfied);
            return Ok(true);
        }
        let lowered = value.call_method0(intern!(self.py, "lower"))?;
        let Ok(text) = lowered.cast_exact::<PyString>()?.to_str() else {
            return Ok(false);
        };
        field.scan(text.as_bytes(), &mut self.satisfied);
        Ok(true)
    }

    /// Lists, numbers, flat dotted keys, objects inside arrays: EventView.lowered() reads them.
    fn general(&mut self, field: &Field) -> PyResult<bool> {
        let texts = self.view.call_method1(
            intern!(self.py, "lowered"),
            (field.reference.bind(self.py),),
        )?;
        for text in texts.cast_exact::<PyTuple>()?.iter() {
            let Ok(text) = text.cast_exact::<PyString>()?.to_str() else {
                return Ok(false);
            };
            field.scan(text.as_bytes(), &mut self.satisfied);
        }
        Ok(true)
    }
}

#[pymodule]
fn _prefilter_native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<NativeIndex>()?;
    Ok(())
}

//! A document read into a [`serde_json::Value`] while noting duplicate keys: a map that
//! names a key twice would otherwise keep the last value silently.

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// A value and the paths of the keys written twice inside it (`labels.version`).
pub(crate) struct Node {
    pub(crate) value: Value,
    pub(crate) duplicates: Vec<String>,
}

impl Node {
    fn leaf(value: Value) -> Node {
        Node {
            value,
            duplicates: Vec::new(),
        }
    }
}

/// A whole document: a list keeps each entry's duplicates apart, so that they can be
/// reported against the entry.
pub(crate) enum DocumentNode {
    List(Vec<Node>),
    Other(Node),
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

impl<'de> Deserialize<'de> for DocumentNode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(DocumentVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any YAML or JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
        Ok(Node::leaf(Value::Bool(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
        Ok(Node::leaf(Value::Number(v.into())))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
        Ok(Node::leaf(Value::Number(v.into())))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
        Ok(Node::leaf(
            Number::from_f64(v).map_or(Value::Null, Value::Number),
        ))
    }
    fn visit_str<E>(self, v: &str) -> Result<Node, E> {
        Ok(Node::leaf(Value::String(v.to_string())))
    }
    fn visit_string<E>(self, v: String) -> Result<Node, E> {
        Ok(Node::leaf(Value::String(v)))
    }
    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::leaf(Value::Null))
    }
    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::leaf(Value::Null))
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut values = Vec::new();
        let mut duplicates = Vec::new();
        while let Some(node) = seq.next_element::<Node>()? {
            let i = values.len();
            duplicates.extend(node.duplicates.into_iter().map(|d| format!("[{i}].{d}")));
            values.push(node.value);
        }
        Ok(Node {
            value: Value::Array(values),
            duplicates,
        })
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut values = Map::new();
        let mut duplicates = Vec::new();
        while let Some((key, node)) = map.next_entry::<String, Node>()? {
            duplicates.extend(node.duplicates.into_iter().map(|d| format!("{key}.{d}")));
            if values.insert(key.clone(), node.value).is_some() {
                duplicates.push(key);
            }
        }
        Ok(Node {
            value: Value::Object(values),
            duplicates,
        })
    }
}

struct DocumentVisitor;

macro_rules! forward {
    ($($name:ident($t:ty)),*) => {$(
        fn $name<E: serde::de::Error>(self, v: $t) -> Result<DocumentNode, E> {
            NodeVisitor.$name(v).map(DocumentNode::Other)
        }
    )*};
}

impl<'de> Visitor<'de> for DocumentVisitor {
    type Value = DocumentNode;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a list of push items")
    }
    forward!(
        visit_bool(bool),
        visit_i64(i64),
        visit_u64(u64),
        visit_f64(f64),
        visit_str(&str),
        visit_string(String)
    );
    fn visit_none<E>(self) -> Result<DocumentNode, E> {
        Ok(DocumentNode::Other(Node::leaf(Value::Null)))
    }
    fn visit_unit<E>(self) -> Result<DocumentNode, E> {
        Ok(DocumentNode::Other(Node::leaf(Value::Null)))
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<DocumentNode, D::Error> {
        DocumentNode::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<DocumentNode, A::Error> {
        let mut nodes = Vec::new();
        while let Some(node) = seq.next_element::<Node>()? {
            nodes.push(node);
        }
        Ok(DocumentNode::List(nodes))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<DocumentNode, A::Error> {
        NodeVisitor.visit_map(map).map(DocumentNode::Other)
    }
}

use super::*;
use crate::plan::plan_push;
use crate::settings::TargetSettings;
use ferry_items::read_items_yaml;

const LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";

/// `n` multi-arch builds, each pushed to `repos` repositories with two tags each.
fn items(n: u8, repos: u8) -> String {
    let mut yaml = String::new();
    for b in 0..n {
        let dest: Vec<String> = (0..repos)
            .flat_map(|r| {
                [
                    format!("product/app{b}-{r}:1"),
                    format!("product/app{b}-{r}:latest"),
                ]
            })
            .collect();
        yaml.push_str(&format!(
            r#"- ContainerImagePushItem:
    name: build{b}
    dest: [{}]
    pull_info:
      tag_specs:
        - {{registry: "src.io:5000", repository: ns/app{b}, tag: "1.0", media_types: []}}
      digest_specs:
        - {{registry: "src.io:5000", repository: ns/app{b}, digest: "{}", media_type: {LIST}}}
"#,
            dest.join(", "),
            ferry_image::Digest::sha256(&[b]),
        ));
    }
    yaml
}

fn plan(n: u8, repos: u8) -> PushPlan {
    let settings = TargetSettings::parse("registry: quay.io\nnamespace: org\n").unwrap();
    let items = read_items_yaml(&items(n, repos)).unwrap();
    plan_push(&items, &settings, false)
}

fn tags(plan: &PushPlan) -> Vec<String> {
    let mut out: Vec<String> = plan
        .groups
        .iter()
        .flat_map(|g| g.destinations.iter().map(|d| d.to_string()))
        .collect();
    out.sort();
    out
}

#[test]
fn parses_index_and_count() {
    let s: Shard = "0/1".parse().unwrap();
    assert_eq!((s.index(), s.count()), (0, 1));
    let s: Shard = "1023/1024".parse().unwrap();
    assert_eq!(s.to_string(), "1023/1024");
    for bad in [
        "",
        "1",
        "/",
        "0/",
        "/3",
        "3/3",
        "4/3",
        "0/0",
        "0/1025",
        "-1/3",
        "a/3",
        "1/b",
        " 1/3",
        "1/3 ",
        "1/3/5",
        "99999999999/3",
        "+1/3",
    ] {
        let e = bad.parse::<Shard>().unwrap_err();
        assert!(e.to_string().contains("INDEX/COUNT"), "{bad:?}: {e}");
    }
}

#[test]
fn the_hash_is_stable() {
    // Fixed values: a change here re-partitions every running sharded push.
    assert_eq!(shard_of("org/app", 1), 0);
    let a = shard_of("org/app", 1024);
    assert_eq!(a, shard_of("org/app", 1024));
    assert!(a < 1024);
    // The first 8 bytes of sha256("org/app"), big-endian, modulo the count.
    let h = Sha256::digest(b"org/app");
    let v = u64::from_be_bytes(h[..8].try_into().unwrap());
    assert_eq!(u64::from(shard_of("org/app", 7)), v % 7);
}

#[test]
fn shards_partition_the_destinations_exactly() {
    let whole = plan(12, 3);
    let all = tags(&whole);
    assert_eq!(all.len(), 12 * 3 * 2);
    for count in [1u32, 2, 3, 4, 7, 1024] {
        let mut union = Vec::new();
        for index in 0..count {
            let part = shard_plan(&whole, Shard::new(index, count).unwrap());
            let t = tags(&part);
            // Every tag of a repository is in the shard that owns the repository.
            for g in &part.groups {
                for d in &g.destinations {
                    assert_eq!(shard_of(d.repository(), count), index);
                }
            }
            union.extend(t);
        }
        union.sort();
        assert_eq!(union, all, "count {count}: every tag once, none twice");
    }
}

#[test]
fn a_group_spanning_repositories_is_split_not_duplicated() {
    let whole = plan(1, 16);
    let mut seen = 0;
    for index in 0..4 {
        let part = shard_plan(&whole, Shard::new(index, 4).unwrap());
        assert!(part.groups.len() <= 1);
        seen += part
            .groups
            .iter()
            .map(|g| g.destinations.len())
            .sum::<usize>();
    }
    assert_eq!(seen, 32);
}

#[test]
fn the_partition_does_not_depend_on_item_order() {
    let settings = TargetSettings::parse("registry: quay.io\n").unwrap();
    let mut docs: Vec<String> = items(6, 2)
        .split("- ContainerImagePushItem:")
        .filter(|s| !s.trim().is_empty())
        .map(|s| format!("- ContainerImagePushItem:{s}"))
        .collect();
    let forward = plan_push(&read_items_yaml(&docs.concat()).unwrap(), &settings, false);
    docs.reverse();
    let backward = plan_push(&read_items_yaml(&docs.concat()).unwrap(), &settings, false);
    for index in 0..3 {
        let s = Shard::new(index, 3).unwrap();
        assert_eq!(
            tags(&shard_plan(&forward, s)),
            tags(&shard_plan(&backward, s))
        );
    }
}

#[test]
fn loads_add_up() {
    let whole = plan(10, 2);
    let loads = shard_loads(&whole, 4, |_| 1000).unwrap();
    assert_eq!(loads.len(), 4);
    assert_eq!(loads.iter().map(|l| l.destinations).sum::<usize>(), 40);
    assert_eq!(loads.iter().map(|l| l.repositories).sum::<usize>(), 20);
    assert_eq!(loads.iter().map(|l| l.bytes).sum::<u64>(), 20 * 1000);
    assert_eq!(loads[2].shard, "2/4");
}

#[test]
fn user_agent_names_the_shard() {
    let s = Shard::new(2, 8).unwrap();
    assert_eq!(s.user_agent("ferry/1.0"), "ferry/1.0 (shard 2/8)");
}

//! keepalived 2.2.7's line preprocessing: conditionals, parameters, continuation, bounds.

#![allow(clippy::unwrap_used)]

use super::*;
use crate::preprocess::{MAX_EXPANDED_BYTES, MAX_EXPANDED_LINES, MAX_LINE, MAX_SUBSTITUTIONS};

/// An instance whose `priority` line is `prio`, after the lines `before`.
fn instance(before: &str, prio: &str) -> String {
    format!(
        "{before}\nvrrp_instance VI_1 {{\n interface eth0\n virtual_router_id 51\n \
         {prio}\n virtual_ipaddress {{\n  192.0.2.100\n }}\n}}\n"
    )
}

fn priority(id: Option<&str>, text: &str) -> u8 {
    let mut options = ReadOptions::new();
    if let Some(id) = id {
        options = options.config_id(id);
    }
    let conf = options.parse_str_without_includes("k.conf", text).unwrap();
    conf.instances[0].priority
}

fn error(id: Option<&str>, text: &str) -> String {
    let mut options = ReadOptions::new();
    if let Some(id) = id {
        options = options.config_id(id);
    }
    options
        .parse_str_without_includes("k.conf", text)
        .unwrap_err()
        .to_string()
}

#[test]
fn conditionals_follow_the_config_id() {
    let text = instance("", "@lb1 priority 150\n@^lb1 priority 50");
    assert_eq!(priority(Some("lb1"), &text), 150);
    assert_eq!(priority(Some("lb2"), &text), 50);
    // Without an id every `@ID` line goes and every `@^ID` line stays.
    assert_eq!(priority(None, &text), 50);
    // The id is compared whole, and blanks may follow it.
    let text = instance("", "priority 10\n@lb priority 20\n@lb1\t  priority 30");
    assert_eq!(priority(Some("lb1"), &text), 30);
    // `@ID` alone (nothing after it) is dropped, whatever the id.
    let text = instance("", "priority 10\n@lb1");
    assert_eq!(priority(Some("lb1"), &text), 10);
}

#[test]
fn conditionals_apply_after_a_brace_too() {
    let text = "vrrp_instance VI_1 { @lb1 priority 150\n interface eth0\n virtual_router_id 51\n \
                virtual_ipaddress {\n  192.0.2.100\n }\n}\n";
    assert_eq!(priority(Some("lb1"), text), 150);
    assert_eq!(priority(Some("lb2"), text), 100);
}

#[test]
fn definitions_are_substituted_from_their_line_on() {
    let text = instance("$P=120", "priority $P");
    assert_eq!(priority(None, &text), 120);
    let text = instance("$P=120", "priority ${P}");
    assert_eq!(priority(None, &text), 120);
    // Redefinition: the later value from then on.
    let text = instance("$P=120\n$P=130", "priority $P");
    assert_eq!(priority(None, &text), 130);
    // A definition inside a block counts too, and a value may use other definitions.
    let text = instance("$A=1\n$B=${A}4$A", "$C=priority\n $C $B");
    assert_eq!(priority(None, &text), 141);
    // Comments are removed from the value.
    let text = instance("$P=77 # seventy-seven", "priority $P");
    assert_eq!(priority(None, &text), 77);
}

#[test]
fn definition_syntax_is_keepalived_s() {
    // A blank before `=` makes it no definition: `$P` stays a word.
    let conf = parse_str_without_includes("k.conf", &instance("$P =120", "priority 9")).unwrap();
    assert!(
        conf.warnings.iter().any(|w| w.keyword == "$P"),
        "{:?}",
        conf.warnings
    );
    // `$NAME` is a reference only before a blank, `,`, `)` or the end of the line: `$P0`
    // names another parameter, so it stays (and is not a number).
    let err = error(None, &instance("$P=1", "priority $P0"));
    assert!(err.contains("$P0"), "{err}");
    // `${P}0` is the way to write it.
    assert_eq!(priority(None, &instance("$P=1", "priority ${P}0")), 10);
    // An undefined reference stays as written.
    let err = error(None, &instance("", "priority $NOPE"));
    assert!(err.contains("$NOPE"), "{err}");
    // Parameters only for `_RANDOM`: `${P 2}` stays, and its braces are braces.
    let err = error(None, &instance("$P=1", "priority ${P 2}"));
    assert!(err.contains("priority: \"$\""), "{err}");
}

#[test]
fn multiline_definitions_are_the_only_continuation() {
    let text = "$VIPS=\\\n  192.0.2.100 \\\n  192.0.2.101\n\n\
                vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n \
                virtual_ipaddress {\n  $VIPS\n }\n}\n";
    let conf = parse_str_without_includes("k.conf", text).unwrap();
    let vips: Vec<String> = conf.instances[0]
        .vips
        .iter()
        .map(|v| v.addr.to_string())
        .collect();
    assert_eq!(vips, ["192.0.2.100", "192.0.2.101"]);
    // The first line of the value may hold text; comment-only lines do not end it, an
    // empty line does.
    let text = instance(
        "$BLOCK=advert_int 2 \\\n# a comment\n  priority 33\n\n",
        "$BLOCK",
    );
    let conf = parse_str_without_includes("k.conf", &text).unwrap();
    assert_eq!(conf.instances[0].priority, 33);
    // Used in the middle of a line, a multiline value is not substituted.
    let err = error(None, &instance("$M=\\\n a \\\n b\n", "priority $M 1"));
    assert!(err.contains("$M"), "{err}");
    // Any other trailing backslash stays part of the last word, as in keepalived 2.2.7,
    // and is warned about.
    let err = error(None, &instance("", "priority 100 \\\n"));
    assert!(err.contains("100\\"), "{err}");
    let text = instance("global_defs {\n router_id r1 \\\n}", "priority 5");
    let conf = parse_str_without_includes("k.conf", &text).unwrap();
    assert!(
        conf.warnings
            .iter()
            .any(|w| w.keyword == "router_id" && w.message.contains("'\\'")),
        "{:?}",
        conf.warnings
    );
}

#[test]
fn comment_characters_are_kept_only_in_quotes() {
    // keepalived 2.2.7's daemon decomments each line twice (its children read the parent's
    // decommented copy): `x\#y` is `x` there. Inside quotes `#` and `!` are characters, and
    // `$H"` is no reference (a `"` does not end a name) while `${H}` is.
    let conf = parse_str_without_includes(
        "k.conf",
        &instance(
            "vrrp_script s {\n script \"/bin/echo a#b!c\"\n}\n$H=x\\#y\n$Q=\"a#b\"\n\
             global_defs {\n router_id $Q\n}",
            "priority 5\n track_script {\n  s\n }\n notify_master \"/bin/echo ${H} $H\"",
        ),
    )
    .unwrap();
    assert_eq!(conf.scripts[0].script, ["/bin/echo", "a#b!c"]);
    let words = |v: &[&str]| Some(v.iter().map(|w| w.to_string()).collect::<Vec<_>>());
    assert_eq!(
        conf.instances[0].notify.master,
        words(&["/bin/echo", "x", "$H"])
    );
    // A quoted value keeps its quotes, so its `#` stays a character where it is used.
    assert_eq!(conf.global.router_id.as_deref(), Some("a#b"));
}

#[test]
fn standard_definitions() {
    let text = instance(
        "",
        "priority 5\n notify_master \"/bin/${_INSTANCE} ${_HASH}\"",
    );
    let conf = ReadOptions::new()
        .config_id("lb1")
        .parse_str_without_includes("k.conf", &text)
        .unwrap();
    assert_eq!(
        conf.instances[0].notify.master.as_deref(),
        Some(&["/bin/lb1".to_owned(), "#".to_owned()][..])
    );
    for _ in 0..20 {
        let p = priority(None, &instance("", "priority ${_RANDOM 10 12}"));
        assert!((10..=12).contains(&p), "{p}");
    }
    // `$_HASH` outside quotes starts a comment once substituted, as in keepalived.
    assert_eq!(priority(None, &instance("", "priority 7 $_HASH 8")), 7);
}

#[test]
fn substituted_lines_are_preprocessed_again() {
    // A value starting with `@` is a conditional once substituted.
    let text = instance("$ON_LB1=@lb1", "priority 10\n$ON_LB1 priority 20");
    assert_eq!(priority(Some("lb1"), &text), 20);
    assert_eq!(priority(Some("lb2"), &text), 10);
    // A definition may come from a conditional line only.
    let text = instance("@lb1 $P=150\n@^lb1 $P=100", "priority $P");
    assert_eq!(priority(Some("lb1"), &text), 150);
    assert_eq!(priority(Some("lb2"), &text), 100);
}

#[test]
fn definitions_last_across_includes() {
    let dir = std::env::temp_dir().join(format!("kconf-pre-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("defs.conf"), "$P=99\n@lb1 $P=199\n").unwrap();
    std::fs::write(
        dir.join("main.conf"),
        instance("include defs.conf", "priority $P"),
    )
    .unwrap();
    let conf = ReadOptions::new()
        .config_id("lb1")
        .read(&dir.join("main.conf"))
        .unwrap();
    assert_eq!(conf.instances[0].priority, 199);
    assert_eq!(
        read(&dir.join("main.conf")).unwrap().instances[0].priority,
        99
    );
    // An include line may come from a substitution too.
    std::fs::write(
        dir.join("via.conf"),
        instance("$INC=include defs.conf\n$INC", "priority $P"),
    )
    .unwrap();
    assert_eq!(
        read(&dir.join("via.conf")).unwrap().instances[0].priority,
        99
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn recursive_definitions_are_located_errors() {
    // Same length forever (keepalived 2.2.7 loops): bounded by the substitution count.
    let err = error(None, &instance("$A=$B\n$B=$A", "priority $A"));
    assert_eq!(
        err,
        format!(
            "k.conf:6: $A: more than {MAX_SUBSTITUTIONS} substitutions in one line (a \
             definition that uses itself?)"
        )
    );
    // Growing: bounded by keepalived's line length.
    let err = error(None, &instance("$A=x $A", "priority $A"));
    assert_eq!(
        err,
        format!(
            "k.conf:5: $A: substitution makes the line longer than keepalived's {MAX_LINE} \
             bytes (a definition that uses itself?)"
        )
    );
    // Doubling: the same bound, reached quickly.
    let err = error(None, &instance("$A=$A $A", "priority $A"));
    assert!(err.contains("longer than"), "{err}");
    // A multiline definition that uses itself: bounded by the lines it may produce.
    let err = error(None, &instance("$M=\\\n x \\\n $M\n", "priority 1\n$M"));
    assert!(err.starts_with("k.conf:9: $:"), "{err}");
    assert!(err.contains(&MAX_EXPANDED_LINES.to_string()), "{err}");
    // ...or by depth, when it uses itself twice.
    let err = error(None, &instance("$M=\\\n $M \\\n $M\n", "priority 1\n$M"));
    assert!(err.contains("deep"), "{err}");
    // Definitions that multiply without using themselves: ten lines of ten of ten of ten
    // lines of 1000 bytes are 10 MB from a 4 KB file, past the byte bound long before the
    // line bound.
    let block = |name: &str, line: &str| {
        let mut text = format!("${name}=\\\n");
        for _ in 0..9 {
            text.push_str(&format!(" {line} \\\n"));
        }
        text.push_str(&format!(" {line}\n"));
        text
    };
    let defs = [
        block("A", &"a".repeat(1000)),
        block("B", "$A"),
        block("C", "$B"),
        block("D", "$C"),
    ]
    .concat();
    let err = error(None, &format!("{defs}$D\n"));
    assert!(err.contains(&MAX_EXPANDED_BYTES.to_string()), "{err}");
    // The 10 000 lines are within the line bound: the bytes stopped it.
    const { assert!(MAX_EXPANDED_LINES > 10_000) };
}

#[test]
fn sequences_are_refused() {
    let err = error(None, &instance("~SEQ(i, 1, 3) $P=$i", "priority 1"));
    assert_eq!(
        err,
        "k.conf:1: ~SEQ: keepalived's sequence expansion is not supported"
    );
}

#[test]
fn unterminated_quotes_are_errors() {
    let err = error(
        None,
        &instance("", "priority 1\n notify_master \"/bin/true"),
    );
    assert_eq!(err, "k.conf:6: \": unterminated quoted string");
}

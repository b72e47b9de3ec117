//! The `promptdb` command line, run as a process: against the local database and against a
//! server, with the exit codes scripts rely on.

use std::{
    io::Write,
    path::Path,
    process::{Command, Output, Stdio},
};

use promptdb_http::testing::ServerProcess;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_promptdb");

/// Runs `promptdb --data-dir DIR args…` with `stdin`.
fn run(dir: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    run_env(dir, args, stdin, &[])
}

fn run_env(dir: &Path, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.arg("--data-dir")
        .arg(dir)
        .args(args)
        .env_remove("PROMPTDB_URL")
        .env_remove("PROMPTDB_API_KEY")
        .env_remove("PROMPTDB_DATABASE_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn promptdb");
    let mut pipe = child.stdin.take().expect("stdin");
    if let Some(input) = stdin {
        pipe.write_all(input.as_bytes()).expect("write stdin");
    }
    drop(pipe);
    child.wait_with_output().expect("wait")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[track_caller]
fn ok(o: Output) -> String {
    assert!(
        o.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        stdout(&o),
        String::from_utf8_lossy(&o.stderr)
    );
    stdout(&o)
}

#[track_caller]
fn code(o: &Output) -> i32 {
    o.status.code().expect("exit code")
}

fn json(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}

#[test]
fn local_add_get_ls_search_tags_rm() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = ok(run(
        d,
        &[
            "add",
            "--name",
            "Code review",
            "--tag",
            "Dev",
            "--content",
            "Review {{code}} in {{lang}}",
        ],
        None,
    ));
    assert!(out.contains("Saved `code-review`"), "{out}");
    // Content from standard input.
    ok(run(
        d,
        &["add", "--slug", "haiku", "--name", "Haiku", "--favorite"],
        Some("Write a haiku about {{topic}}\n"),
    ));

    assert_eq!(
        ok(run(d, &["get", "code-review", "--raw"], None)),
        "Review {{code}} in {{lang}}"
    );
    let rendered = ok(run(
        d,
        &[
            "get",
            "code-review",
            "--var",
            "code=x = 1",
            "--var",
            "lang=Rust",
        ],
        None,
    ));
    assert_eq!(rendered.trim_end(), "Review x = 1 in Rust");
    let md = ok(run(d, &["get", "haiku"], None));
    assert!(
        md.starts_with("---\nname: Haiku\n") && md.contains("favorite: true"),
        "{md}"
    );

    let list = json(&ok(run(d, &["ls", "--json"], None)));
    let slugs: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["haiku", "code-review"], "the favourite ranks first");
    let human = ok(run(d, &["ls"], None));
    assert!(
        human.contains("code-review") && human.contains("[dev]"),
        "{human}"
    );
    let found = json(&ok(run(d, &["search", "--json", "review"], None)));
    assert_eq!(found[0]["slug"], "code-review");
    assert!(ok(run(d, &["tags"], None)).contains("dev"));

    ok(run(d, &["rm", "code-review"], None));
    let gone = run(d, &["get", "code-review"], None);
    assert_eq!(code(&gone), 3, "not found");
}

#[test]
fn exit_codes_scripts_can_trust() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(run(
        d,
        &["add", "--slug", "one", "--name", "One", "--content", "x"],
        None,
    ));
    let conflict = run(
        d,
        &["add", "--slug", "one", "--name", "Again", "--content", "y"],
        None,
    );
    assert_eq!(code(&conflict), 5);
    assert!(String::from_utf8_lossy(&conflict.stderr).contains("prompts[0].slug"));
    let invalid = run(
        d,
        &[
            "add",
            "--slug",
            "Not Valid",
            "--name",
            "x",
            "--content",
            "y",
        ],
        None,
    );
    assert_eq!(code(&invalid), 4);
    assert_eq!(code(&run(d, &["get", "missing"], None)), 3);
    assert_eq!(code(&run(d, &["get", "one", "--var", "nonsense"], None)), 4);
    assert_eq!(code(&run(d, &["frobnicate"], None)), 2, "usage error");
    let unreachable = run(d, &["--url", "http://127.0.0.1:9", "ls"], None);
    assert_eq!(code(&unreachable), 7);
}

#[test]
fn edit_with_editor() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(run(
        d,
        &[
            "add",
            "--slug",
            "note",
            "--name",
            "Note",
            "--content",
            "old text",
        ],
        None,
    ));
    let editor = d.join("editor.sh");
    std::fs::write(
        &editor,
        "#!/bin/sh\nsed -i -e 's/old text/new text/' -e 's/^tags: \\[\\]/tags: [edited]/' \"$1\"\n",
    )
    .unwrap();
    std::process::Command::new("chmod")
        .arg("+x")
        .arg(&editor)
        .status()
        .unwrap();
    let out = ok(run_env(
        d,
        &["edit", "note"],
        None,
        &[("EDITOR", editor.to_str().unwrap()), ("VISUAL", "")],
    ));
    assert!(out.contains("version 2"), "{out}");
    let p = json(&ok(run(d, &["get", "note", "--json"], None)));
    assert_eq!(p["content"], "new text\n");
    assert_eq!(p["tags"], serde_json::json!(["edited"]));
    // An editor that changes nothing saves nothing; a failing editor leaves the prompt alone.
    ok(run_env(
        d,
        &["edit", "note"],
        None,
        &[("EDITOR", "true"), ("VISUAL", "")],
    ));
    let failed = run_env(
        d,
        &["edit", "note"],
        None,
        &[("EDITOR", "false"), ("VISUAL", "")],
    );
    assert_eq!(code(&failed), 4);
    assert_eq!(
        json(&ok(run(d, &["get", "note", "--json"], None)))["version"],
        2
    );
}

#[test]
fn export_import_round_trip_and_markdown_folders() {
    let from = tempfile::tempdir().unwrap();
    let to = tempfile::tempdir().unwrap();
    ok(run(
        from.path(),
        &[
            "add",
            "--slug",
            "a",
            "--name",
            "A",
            "--tag",
            "t",
            "--content",
            "alpha {{x}}",
        ],
        None,
    ));
    ok(run(
        from.path(),
        &[
            "add",
            "--slug",
            "b",
            "--name",
            "B",
            "--pinned",
            "--content",
            "beta",
        ],
        None,
    ));
    let file = from.path().join("export.json");
    ok(run(
        from.path(),
        &["export", "-o", file.to_str().unwrap()],
        None,
    ));
    let export = json(&std::fs::read_to_string(&file).unwrap());
    assert_eq!(export["prompts"].as_array().unwrap().len(), 2);

    let report = json(&ok(run(
        to.path(),
        &["import", "--json", file.to_str().unwrap()],
        None,
    )));
    assert_eq!(report["imported"].as_array().unwrap().len(), 2);
    let b = json(&ok(run(to.path(), &["get", "b", "--json"], None)));
    assert_eq!(
        (b["content"].as_str(), b["pinned"].as_bool()),
        (Some("beta"), Some(true))
    );
    // Importing again skips what exists, or stops with --fail-on-conflict.
    let again = json(&ok(run(
        to.path(),
        &["import", "--json", file.to_str().unwrap()],
        None,
    )));
    assert_eq!(again["skipped"].as_array().unwrap().len(), 2);
    assert_eq!(
        code(&run(
            to.path(),
            &["import", "--fail-on-conflict", file.to_str().unwrap()],
            None
        )),
        5
    );

    // A Claude Code commands folder.
    let commands = to.path().join("commands");
    std::fs::create_dir_all(commands.join("git")).unwrap();
    std::fs::write(commands.join("git/commit.md"), "---\ndescription: Write a commit message\nargument-hint: scope\n---\nWrite a commit message for $ARGUMENTS.\n").unwrap();
    let report = json(&ok(run(
        to.path(),
        &["import", "--json", commands.to_str().unwrap()],
        None,
    )));
    assert_eq!(report["imported"], serde_json::json!(["git-commit"]));
    let text = ok(run(
        to.path(),
        &["get", "git-commit", "--var", "arguments=the parser"],
        None,
    ));
    assert_eq!(text.trim_end(), "Write a commit message for the parser.");
    // A broken file is reported by name and imports nothing.
    std::fs::write(commands.join("broken.md"), "---\nname: x\n").unwrap();
    let broken = run(to.path(), &["import", commands.to_str().unwrap()], None);
    assert_eq!(code(&broken), 4);
    assert!(String::from_utf8_lossy(&broken.stderr).contains("broken.md"));
}

#[test]
fn remote_mode_against_a_running_server() {
    let server = ServerProcess::start(Path::new(BIN), &[]);
    assert!(
        server.api_key.starts_with("pdb_"),
        "the first start prints a key"
    );
    let scratch = tempfile::tempdir().unwrap();
    let remote = |args: &[&str]| {
        let mut all = vec![
            "--url",
            server.url.as_str(),
            "--api-key",
            server.api_key.as_str(),
        ];
        all.extend_from_slice(args);
        run(scratch.path(), &all, None)
    };
    ok(remote(&[
        "add",
        "--name",
        "Remote prompt",
        "--content",
        "Hello {{who}}",
    ]));
    assert_eq!(
        ok(remote(&["get", "remote-prompt", "--var", "who=world"])).trim_end(),
        "Hello world"
    );
    assert!(ok(remote(&["ls"])).contains("remote-prompt"));
    assert_eq!(
        code(&remote(&[
            "add",
            "--slug",
            "remote-prompt",
            "--name",
            "x",
            "--content",
            "y"
        ])),
        5
    );
    assert_eq!(code(&remote(&["get", "nope"])), 3);
    let created = json(&ok(remote(&[
        "keys",
        "create",
        "reader",
        "--read-only",
        "--json",
    ])));
    let reader = created["secret"].as_str().unwrap();
    let ro = run(
        scratch.path(),
        &[
            "--url",
            &server.url,
            "--api-key",
            reader,
            "rm",
            "remote-prompt",
        ],
        None,
    );
    assert_eq!(code(&ro), 6, "read-only keys cannot delete");
    let bad = run(
        scratch.path(),
        &["--url", &server.url, "--api-key", "pdb_wrong", "ls"],
        None,
    );
    assert_eq!(code(&bad), 6);
    // The same database, read locally while the server runs.
    let local = ok(run(&server.data_dir, &["ls"], None));
    assert!(local.contains("remote-prompt"), "{local}");
    let status = server.stop();
    assert!(status.success(), "graceful shutdown exits 0: {status:?}");
}

#[test]
fn migrate_and_restart_keep_data_and_do_not_reprint_the_key() {
    let dir = tempfile::tempdir().unwrap();
    ok(run(dir.path(), &["migrate"], None));
    let first = ServerProcess::start_in(Path::new(BIN), dir.path(), &[]);
    assert!(first.api_key.starts_with("pdb_"));
    let key = first.api_key.clone();
    assert!(first.stop().success());
    let second = ServerProcess::start_in(Path::new(BIN), dir.path(), &[]);
    assert!(
        second.api_key.is_empty(),
        "the key is shown only on first start"
    );
    let out = run(
        dir.path(),
        &["--url", &second.url, "--api-key", &key, "ls", "--json"],
        None,
    );
    assert_eq!(json(&ok(out)), serde_json::json!([]));
}

/// Versions, diffs, labels and resolve, locally and against a server.
#[test]
fn releases_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(run(
        d,
        &[
            "add",
            "--slug",
            "support/triage",
            "--name",
            "Triage",
            "--content",
            "Triage {{ticket}}",
            "-m",
            "first",
        ],
        None,
    ));
    ok(run(
        d,
        &[
            "add",
            "--slug",
            "support/tone",
            "--name",
            "Tone",
            "--content",
            "Be calm.",
            "--label",
            "production",
        ],
        None,
    ));
    // A new version through the API, as the CLI's `edit` needs an editor.
    let server = ServerProcess::start_in(Path::new(BIN), d, &[]);
    let key = {
        let out = ok(run(
            d,
            &["--json", "keys", "create", "release-bot", "--release"],
            None,
        ));
        json(&out)["secret"].as_str().unwrap().to_owned()
    };
    let remote = |args: &[&str]| {
        let mut all = vec!["--url", server.url.as_str(), "--api-key", key.as_str()];
        all.extend_from_slice(args);
        run(d, &all, None)
    };
    // A second version, through `edit` with an "editor" that rewrites the body.
    let editor = d.join("rewrite.sh");
    std::fs::write(
        &editor,
        "#!/bin/sh\nsed -i 's|^Triage {{ticket}}$|{{> support/tone}} Triage {{ticket}} v2|' \"$1\"\n",
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&editor, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let editor = editor.to_str().unwrap().to_owned();
    ok(run_env(
        d,
        &[
            "--url",
            server.url.as_str(),
            "--api-key",
            key.as_str(),
            "edit",
            "support/triage",
            "-m",
            "include the tone",
        ],
        None,
        &[("EDITOR", editor.as_str()), ("VISUAL", "")],
    ));

    for run_as in [&remote as &dyn Fn(&[&str]) -> Output, &|a: &[&str]| {
        run(d, a, None)
    }] {
        let versions = ok(run_as(&["versions", "support/triage"]));
        assert!(
            versions.contains("v2") && versions.contains("include the tone"),
            "{versions}"
        );
        assert!(versions.contains("[latest]"), "{versions}");
        let diff = ok(run_as(&["diff", "support/triage", "1", "2"]));
        assert!(
            diff.contains("+{{> support/tone}} Triage {{ticket}} v2"),
            "{diff}"
        );
    }

    let moved = ok(remote(&["label", "support/triage", "production", "1"]));
    assert!(moved.contains("now points at version 1"), "{moved}");
    let split = ok(remote(&[
        "label",
        "support/triage",
        "production",
        "--split",
        "1:90,2:10",
    ]));
    assert!(split.contains("v1 90% / v2 10%"), "{split}");
    let labels = ok(remote(&["label", "support/triage"]));
    assert!(
        labels.contains("production") && labels.contains("(protected)"),
        "{labels}"
    );
    let history = ok(remote(&[
        "label",
        "support/triage",
        "production",
        "--history",
    ]));
    assert_eq!(history.lines().count(), 2, "{history}");
    assert!(
        history.contains("api key"),
        "the actor is recorded: {history}"
    );
    ok(remote(&[
        "label",
        "support/triage",
        "production",
        "--rollback",
    ]));

    let resolved = ok(remote(&[
        "resolve",
        "support/triage",
        "--var",
        "ticket=T-1",
    ]));
    assert_eq!(
        resolved.trim(),
        "Triage T-1",
        "production is version 1 again"
    );
    let latest = ok(run(
        d,
        &[
            "resolve",
            "support/triage",
            "--label",
            "latest",
            "--var",
            "ticket=T-2",
        ],
        None,
    ));
    assert_eq!(latest.trim(), "Be calm. Triage T-2 v2");
    let as_json = json(&ok(remote(&[
        "--json",
        "resolve",
        "support/triage",
        "--subject",
        "u1",
    ])));
    assert_eq!(as_json["version"], 1);

    // Mistakes get the documented exit codes.
    assert_eq!(
        code(&remote(&["label", "support/triage", "production", "9"])),
        3
    );
    assert_eq!(
        code(&remote(&[
            "label",
            "support/triage",
            "production",
            "--split",
            "1:50,2:60"
        ])),
        4
    );
    assert_eq!(
        code(&remote(&["resolve", "support/triage", "--label", "canary"])),
        3
    );
    assert_eq!(
        code(&run(
            d,
            &["resolve", "support/triage", "--var", "colour=red"],
            None
        )),
        4,
        "an undeclared variable"
    );
    let writer = json(&ok(run(d, &["--json", "keys", "create", "writer"], None)))["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let refused = run(
        d,
        &[
            "--url",
            &server.url,
            "--api-key",
            &writer,
            "label",
            "support/triage",
            "production",
            "2",
        ],
        None,
    );
    assert_eq!(
        code(&refused),
        6,
        "moving production needs the release scope"
    );
    drop(server);
}

#[cfg(feature = "harvest")]
#[test]
fn harvest_transcripts_and_review_the_queue() {
    let fixtures =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../promptdb-core/tests/fixtures/harvest");
    let fixtures = fixtures.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();

    // A dry run needs no database and writes nothing.
    let dry = json(&ok(run(
        d,
        &["--json", "harvest", "--dry-run", fixtures],
        None,
    )));
    assert_eq!(dry["read"]["malformed"], 1, "{dry}");
    let proposed = dry["proposals"].as_array().unwrap().len();
    assert!(proposed >= 10, "{dry}");
    assert!(
        !d.join("promptdb.sqlite3").exists(),
        "the dry run opened no database"
    );

    // A saved prompt the harvest will find again.
    ok(run(
        d,
        &[
            "add",
            "--slug",
            "lifetimes",
            "--name",
            "Lifetimes",
            "--content",
            "Review this Rust code for lifetime bugs:\n{{code}}",
        ],
        None,
    ));
    let out = ok(run(d, &["harvest", fixtures], None));
    assert!(
        out.contains(&format!(
            "Found {proposed} prompts worth keeping: {proposed} new"
        )),
        "{out}"
    );
    // Again: nothing new, each counted again.
    let again = json(&ok(run(d, &["--json", "harvest", fixtures], None)));
    assert_eq!(again["harvested"]["added"], serde_json::json!([]));
    assert_eq!(
        again["harvested"]["merged"].as_array().unwrap().len(),
        proposed
    );

    // Review: the best one (the lifetime review, which resembles `lifetimes`) into that prompt,
    // a bad slug asked again, then save one, dismiss one, skip one, quit.
    let out = ok(run(
        d,
        &["harvest", "review"],
        Some("u\nx\na Not A Slug\na\nd\ns\nq\n"),
    ));
    assert!(out.contains("Resembles `lifetimes`"), "{out}");
    assert!(out.contains("Saved as version 2 of `lifetimes`"), "{out}");
    assert!(out.contains("Answer a, u, d, s or q."), "{out}");
    assert!(out.contains("Not saved:"), "{out}");
    assert!(out.contains("Saved 2, dismissed 1, skipped 1."), "{out}");
    let got = json(&ok(run(d, &["--json", "get", "lifetimes"], None)));
    assert_eq!(got["version"], 2);
    let ls = ok(run(d, &["ls"], None));
    assert_eq!(ls.lines().count(), 2, "lifetimes and the one saved: {ls}");

    // What it cannot read, it says, naming the file (exit 4: invalid input).
    let notes = d.join("notes.txt");
    std::fs::write(&notes, "just some notes\n").unwrap();
    let bad = run(d, &["harvest", notes.to_str().unwrap()], None);
    assert_eq!(code(&bad), 4);
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("notes.txt"),
        "{bad:?}"
    );
    let missing = run(d, &["harvest", "/no/such/dir"], None);
    assert_eq!(code(&missing), 4);
}

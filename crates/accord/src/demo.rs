//! `accord demo`: a seeded election-security exchange to try.
//!
//! Five member organisations, three trust groups, a phishing campaign against a state
//! election office with indicators under every TLP marking (one TLP:RED for two recipients,
//! one published anonymously), a sighting, a briefing report, and — when the file is there
//! — the DISARM framework bundle.

use std::path::PathBuf;
use std::process::ExitCode;

use accord_server::Config;
use accord_server::ingest;
use accord_stix::{Clock, SystemClock, Tlp, ext};
use accord_store::{GroupId, Org, Role, Sector, Store};
use anyhow::{Context, bail};
use serde_json::{Value, json};

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    /// Data directory for the demo (default: a new directory under the system temp dir).
    #[arg(long)]
    data: Option<PathBuf>,
    /// The DISARM STIX bundle to load into the public collection (skipped when absent).
    #[arg(long, default_value = "../shared/testdata/stix/DISARM.json")]
    disarm: PathBuf,
}

struct Seeded {
    lines: Vec<String>,
}

fn new_id(ty: &str) -> String {
    format!("{ty}--{}", accord_store::new_uuid())
}

fn marked(mut v: Value, tlp: Tlp) -> Value {
    v["object_marking_refs"] = json!([tlp.marking_ref()]);
    v
}

fn indicator(name: &str, pattern: &str, now: &str, by: &Org) -> Value {
    json!({
        "type": "indicator", "spec_version": "2.1", "id": new_id("indicator"),
        "created_by_ref": by.identity, "created": now, "modified": now,
        "name": name, "indicator_types": ["malicious-activity"],
        "pattern": pattern, "pattern_type": "stix", "valid_from": now,
    })
}

fn publish(
    store: &dyn Store,
    org: &Org,
    group: &GroupId,
    objects: Vec<Value>,
    clock: &dyn Clock,
) -> anyhow::Result<usize> {
    let report = ingest::publish(store, org, group, objects, clock.now_nanos())?;
    if let Some(f) = report.failures.first() {
        bail!("seeding refused {}: {}", f.id, f.message);
    }
    Ok(report.successes.len())
}

fn seed(store: &dyn Store, disarm: &std::path::Path) -> anyhow::Result<Seeded> {
    let clock = SystemClock;
    let now = clock.now();
    let now = now.as_str();
    let mk = |name: &str, sector| store.create_org(name, sector);
    let facespace = mk("FaceSpace", Sector::Platform)?;
    let chirper = mk("Chirper", Sector::Platform)?;
    let agency = mk("Federal Election Security Agency", Sector::Government)?;
    let office = mk("Columbia State Board of Elections", Sector::ElectionOffice)?;
    let redline = mk("Redline Security", Sector::SecurityFirm)?;
    let everyone = [&facespace, &chirper, &agency, &office, &redline];

    let integrity = store.create_group(
        "Election Integrity",
        "Platforms, government and election offices sharing threats to the election",
        Tlp::Amber,
    )?;
    let platforms = store.create_group(
        "Platform Trust & Safety",
        "Platforms and their security partners sharing influence-operation takedowns",
        Tlp::Green,
    )?;
    let public = store.create_group(
        "Public Frameworks",
        "Public reference material (DISARM)",
        Tlp::Clear,
    )?;
    for o in everyone {
        store.set_membership(o.id, &integrity.id, true, true)?;
        store.set_membership(o.id, &public.id, true, o.id == redline.id)?;
    }
    for o in [&facespace, &chirper] {
        store.set_membership(o.id, &platforms.id, true, true)?;
    }
    store.set_membership(redline.id, &platforms.id, true, false)?;

    // The campaign, as Redline Security found it.
    let actor = marked(
        json!({
            "type": "threat-actor", "spec_version": "2.1", "id": new_id("threat-actor"),
            "created_by_ref": redline.identity, "created": now, "modified": now,
            "name": "Harbor Storm", "threat_actor_types": ["nation-state"],
            "description": "Foreign state-linked group running credential phishing against election officials.",
        }),
        Tlp::Amber,
    );
    let campaign = marked(
        json!({
            "type": "campaign", "spec_version": "2.1", "id": new_id("campaign"),
            "created_by_ref": redline.identity, "created": now, "modified": now,
            "name": "Ballot Lure",
            "description": "Phishing e-mails impersonating the Columbia State Board of Elections, sent to county clerks, with a credential-harvesting page.",
            "first_seen": now,
        }),
        Tlp::Green,
    );
    let domain = marked(
        indicator(
            "Lookalike of the Board of Elections' domain",
            "[domain-name:value = 'columbia-elections-gov.com']",
            now,
            &redline,
        ),
        Tlp::Clear,
    );
    let url = marked(
        indicator(
            "Credential-harvesting page",
            "[url:value = 'https://columbia-votes.info/login']",
            now,
            &redline,
        ),
        Tlp::Green,
    );
    let sender = marked(
        indicator(
            "Phishing sender",
            "[email-addr:value = 'notice@columbia-elections-gov.com']",
            now,
            &redline,
        ),
        Tlp::Amber,
    );
    let infra = marked(
        indicator(
            "Phishing kit server",
            "[ipv4-addr:value = '203.0.113.45']",
            now,
            &redline,
        ),
        Tlp::AmberStrict,
    );
    let mut payload = marked(
        indicator(
            "Malicious attachment sent to the Board of Elections",
            "[file:hashes.'SHA-256' = '4bac27393bdd9777ce02453256c5577cd02275510b2227f473d03f533924f877']",
            now,
            &redline,
        ),
        Tlp::Red,
    );
    if let Value::Object(map) = &mut payload {
        ext::set_sharing(
            map,
            &ext::Sharing {
                recipients: vec![office.identity.clone(), agency.identity.clone()],
                anonymous: false,
            },
        );
    }
    let mut rels = Vec::new();
    for i in [&domain, &url, &sender, &infra] {
        rels.push(marked(json!({
            "type": "relationship", "spec_version": "2.1", "id": new_id("relationship"),
            "created_by_ref": redline.identity, "created": now, "modified": now,
            "relationship_type": "indicates", "source_ref": i["id"], "target_ref": campaign["id"],
        }), Tlp::Green));
    }
    rels.push(marked(json!({
        "type": "relationship", "spec_version": "2.1", "id": new_id("relationship"),
        "created_by_ref": redline.identity, "created": now, "modified": now,
        "relationship_type": "attributed-to", "source_ref": campaign["id"], "target_ref": actor["id"],
    }), Tlp::Amber));
    let ext_def = ext::definition();
    let mut redline_objects = vec![
        ext_def,
        actor.clone(),
        campaign.clone(),
        domain.clone(),
        url.clone(),
        sender.clone(),
        infra.clone(),
        payload.clone(),
    ];
    redline_objects.extend(rels);
    let mut n = publish(store, &redline, &integrity.id, redline_objects, &clock)?;

    // FaceSpace shares, anonymously, the fake accounts that pushed the phishing link.
    let mut accounts = marked(
        indicator(
            "Fake 'Columbia Vote News' account pushing the phishing link",
            "[user-account:account_login = 'columbia_vote_news' AND user-account:account_type = 'facespace']",
            now,
            &facespace,
        ),
        Tlp::Green,
    );
    if let Value::Object(map) = &mut accounts {
        ext::set_sharing(
            map,
            &ext::Sharing {
                recipients: vec![],
                anonymous: true,
            },
        );
    }
    n += publish(store, &facespace, &integrity.id, vec![accounts], &clock)?;

    // The Board of Elections saw the lookalike domain in its mail logs.
    let sighting = marked(
        json!({
            "type": "sighting", "spec_version": "2.1", "id": new_id("sighting"),
            "created_by_ref": office.identity, "created": now, "modified": now,
            "sighting_of_ref": domain["id"], "count": 37, "first_seen": now, "last_seen": now,
            "description": "Seen in 37 e-mails to county clerks.",
        }),
        Tlp::Amber,
    );
    n += publish(store, &office, &integrity.id, vec![sighting], &clock)?;

    // The agency's briefing for the weekly meeting.
    let report = marked(
        json!({
            "type": "report", "spec_version": "2.1", "id": new_id("report"),
            "created_by_ref": agency.identity, "created": now, "modified": now,
            "name": "Weekly election threat briefing", "published": now, "report_types": ["campaign"],
            "description": "Ballot Lure is active against county clerks; block the listed infrastructure.",
            "object_refs": [campaign["id"], domain["id"], url["id"]],
        }),
        Tlp::Amber,
    );
    n += publish(store, &agency, &integrity.id, vec![report], &clock)?;

    // Chirper's takedown of an influence network, for platforms only.
    let takedown = json!({
        "type": "intrusion-set", "spec_version": "2.1", "id": new_id("intrusion-set"),
        "created_by_ref": chirper.identity, "created": now, "modified": now,
        "name": "Harbor Storm persona network",
        "description": "212 accounts posing as local news outlets, removed for coordinated inauthentic behaviour.",
    });
    n += publish(store, &chirper, &platforms.id, vec![takedown], &clock)?;

    let mut lines = vec![format!("seeded {n} objects")];
    match std::fs::read(disarm) {
        Ok(bytes) => {
            let objects = accord_stix::bundle::objects(&bytes)
                .with_context(|| format!("reading {}", disarm.display()))?;
            let count = publish(store, &redline, &public.id, objects, &clock)?;
            lines.push(format!(
                "loaded {count} DISARM objects from {} into `Public Frameworks`",
                disarm.display()
            ));
        }
        Err(_) => lines.push(format!(
            "DISARM bundle not found at {} (pass --disarm PATH to load it)",
            disarm.display()
        )),
    }
    lines.push(String::new());
    lines.push("Collections:".into());
    for g in [&integrity, &platforms, &public] {
        lines.push(format!(
            "  {:<26} {}  (unmarked: {})",
            g.name, g.id, g.default_tlp
        ));
    }
    lines.push(String::new());
    lines.push("API keys (analyst role):".into());
    let mut office_key = String::new();
    for o in everyone {
        let (secret, _) = crate::admin::create_key(
            store,
            o.id,
            "demo analyst",
            Role::Analyst,
            clock.now_nanos(),
        )?;
        lines.push(format!("  {:<36} {secret}", o.name));
        if o.id == office.id {
            office_key = secret;
        }
    }
    lines.push(String::new());
    lines.push("Try, as the Board of Elections (it sees the TLP:RED attachment indicator; Chirper does not):".into());
    lines.push(format!("  export KEY={office_key}"));
    lines.push(String::new());
    lines.push("Then:".into());
    lines.push(
        "  curl -s -H \"Authorization: Bearer $KEY\" http://ADDR/exchange/collections/".into(),
    );
    lines.push(format!(
        "  curl -s -H \"Authorization: Bearer $KEY\" 'http://ADDR/exchange/collections/{}/objects/?match[type]=indicator'",
        integrity.id
    ));
    lines.push(format!(
        "  accord pull --server http://ADDR --key $KEY --collection {}",
        integrity.id
    ));
    lines.push(
        "  printf 'https://Columbia-Votes.info/login\\nnotice@columbia-elections-gov.com\\n203.0.113.45\\n' | accord match - --server http://ADDR --key $KEY"
            .into(),
    );
    lines.push("Any TAXII 2.1 client works too: discovery is at http://ADDR/taxii2/ (Basic auth: any user, the key as password).".into());
    Ok(Seeded { lines })
}

pub fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    crate::serve::init_logging();
    let dir = args.data.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("accord-demo-{}", std::process::id()))
    });
    if dir.join("accord.sqlite3").exists() {
        bail!(
            "{} already holds an exchange; its keys were printed when it was seeded. Use `accord serve --data {}` to serve it, or choose another --data",
            dir.display(),
            dir.display()
        );
    }
    let store = accord_store::open(&dir.to_string_lossy())
        .with_context(|| format!("creating {}", dir.display()))?;
    let seeded = seed(store.as_ref(), &args.disarm)?;
    eprintln!("Accord demo — data in {}", dir.display());
    crate::serve::serve_store(store, Config::default(), &args.listen, |addr| {
        for l in &seeded.lines {
            eprintln!("{}", l.replace("ADDR", &addr.to_string()));
        }
        eprintln!("\nCtrl-C stops the server.");
    })
}

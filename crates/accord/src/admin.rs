//! `accord admin`: organisations, trust groups and API keys, straight on the data directory.

use std::process::ExitCode;

use accord_stix::{Clock, SystemClock, Tlp};
use accord_store::{KeyId, Role, Sector, Store};
use anyhow::Context;
use clap::Subcommand;
use serde_json::json;

use crate::DataArg;

#[derive(Debug, clap::Args)]
pub struct AdminArgs {
    #[command(flatten)]
    data: DataArg,
    /// Print results as JSON.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    what: What,
}

#[derive(Debug, Subcommand)]
enum What {
    /// Member organisations.
    #[command(subcommand)]
    Org(OrgCmd),
    /// Trust groups (each is a TAXII collection).
    #[command(subcommand)]
    Group(GroupCmd),
    /// API keys.
    #[command(subcommand)]
    Key(KeyCmd),
    /// Known-good lists: values `accord match` and `POST /v1/match` never report as hits
    /// (they report them as suppressed), an organisation's own or the whole exchange's.
    #[command(subcommand, name = "known-good")]
    KnownGood(KnownGoodCmd),
}

/// Which known-good list.
#[derive(Debug, clap::Args)]
struct ListArg {
    /// The organisation whose list it is.
    #[arg(
        long,
        required_unless_present = "exchange",
        conflicts_with = "exchange"
    )]
    org: Option<String>,
    /// The exchange's list, which applies to every member.
    #[arg(long)]
    exchange: bool,
}

#[derive(Debug, Subcommand)]
enum KnownGoodCmd {
    /// Add a value (`type:value` or a bare value, as `accord match` reads it); a domain also
    /// covers its subdomains, a CIDR range the addresses in it.
    Add {
        #[command(flatten)]
        list: ListArg,
        /// The observable, e.g. `domain-name:vote.example.gov` or `10.0.0.0/8`.
        observable: String,
        /// Why it is known to be good.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Remove an entry by its id (as `known-good list` shows).
    Remove {
        #[command(flatten)]
        list: ListArg,
        /// Entry id.
        id: String,
    },
    /// List the entries of one list.
    List {
        #[command(flatten)]
        list: ListArg,
    },
}

#[derive(Debug, Subcommand)]
enum OrgCmd {
    /// Create an organisation (and its STIX identity).
    Create {
        /// Unique name.
        name: String,
        /// platform, government, election-office, security-firm or research.
        #[arg(long)]
        sector: Sector,
    },
    /// List organisations.
    List,
}

#[derive(Debug, Subcommand)]
enum GroupCmd {
    /// Create a trust group; prints its collection id.
    Create {
        /// Unique name (the collection's title).
        name: String,
        /// Marking for objects published without a TLP marking.
        #[arg(long, default_value = "amber")]
        default_tlp: Tlp,
        /// What the group is for.
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Add an organisation to a group, or change its rights (neither flag: a member that
    /// reads only CLEAR objects and its own).
    Add {
        /// Organisation name.
        org: String,
        /// Group name or collection id.
        group: String,
        /// May read the group's GREEN and AMBER objects.
        #[arg(long)]
        read: bool,
        /// May publish into the group.
        #[arg(long)]
        write: bool,
    },
    /// Remove an organisation from a group.
    Remove {
        /// Organisation name.
        org: String,
        /// Group name or collection id.
        group: String,
    },
    /// List groups and their members.
    List,
}

#[derive(Debug, Subcommand)]
enum KeyCmd {
    /// Create an API key; it is printed once and never again.
    Create {
        /// Organisation name.
        #[arg(long)]
        org: String,
        /// reader, analyst or org-admin.
        #[arg(long)]
        role: Role,
        /// Who holds it: a person or a service account of the organisation.
        #[arg(long, default_value = "unnamed")]
        member: String,
    },
    /// Revoke a key by its id (as `key list` shows).
    Revoke {
        /// Key id, `key-...`.
        id: String,
    },
    /// List an organisation's keys (never their secrets).
    List {
        /// Organisation name.
        #[arg(long)]
        org: String,
    },
}

fn print(json_mode: bool, value: serde_json::Value, human: String) {
    if json_mode {
        println!("{value}");
    } else {
        println!("{human}");
    }
}

pub fn run(args: AdminArgs) -> anyhow::Result<ExitCode> {
    let store = accord_store::open(&args.data.data.to_string_lossy())
        .with_context(|| format!("opening data directory {}", args.data.data.display()))?;
    run_on(store.as_ref(), args.json, args.what)?;
    Ok(ExitCode::SUCCESS)
}

fn run_on(store: &dyn Store, j: bool, what: What) -> anyhow::Result<()> {
    let clock = SystemClock;
    match what {
        What::Org(OrgCmd::Create { name, sector }) => {
            let org = store.create_org(&name, sector)?;
            print(
                j,
                json!({"name": org.name, "sector": sector.as_str(), "identity": org.identity}),
                format!(
                    "created organisation `{}` ({}), STIX identity {}",
                    org.name,
                    sector.as_str(),
                    org.identity
                ),
            );
        }
        What::Org(OrgCmd::List) => {
            let orgs = store.orgs()?;
            let list: Vec<_> = orgs
                .iter()
                .map(|o| json!({"name": o.name, "sector": o.sector.as_str(), "identity": o.identity}))
                .collect();
            let human = orgs
                .iter()
                .map(|o| format!("{}\t{}\t{}", o.name, o.sector.as_str(), o.identity))
                .collect::<Vec<_>>()
                .join("\n");
            print(j, json!(list), human);
        }
        What::Group(GroupCmd::Create {
            name,
            default_tlp,
            description,
        }) => {
            let g = store.create_group(&name, &description, default_tlp)?;
            print(
                j,
                json!({"name": g.name, "collection": g.id.0, "default_tlp": g.default_tlp.name()}),
                format!(
                    "created trust group `{}`: collection {} (unmarked objects are {})",
                    g.name, g.id, g.default_tlp
                ),
            );
        }
        What::Group(GroupCmd::Add {
            org,
            group,
            read,
            write,
        }) => {
            let o = store.org_by_name(&org)?;
            let g = store.group(&group)?;
            store.set_membership(o.id, &g.id, read, write)?;
            print(
                j,
                json!({"org": o.name, "group": g.name, "read": read, "write": write}),
                format!(
                    "`{}` is a member of `{}` (read: {read}, write: {write})",
                    o.name, g.name
                ),
            );
        }
        What::Group(GroupCmd::Remove { org, group }) => {
            let o = store.org_by_name(&org)?;
            let g = store.group(&group)?;
            store.remove_membership(o.id, &g.id)?;
            print(
                j,
                json!({"org": o.name, "group": g.name, "removed": true}),
                format!("removed `{}` from `{}`", o.name, g.name),
            );
        }
        What::Group(GroupCmd::List) => {
            let orgs = store.orgs()?;
            let name_of = |id| {
                orgs.iter()
                    .find(|o| o.id == id)
                    .map_or("?", |o| o.name.as_str())
            };
            let mut list = Vec::new();
            let mut human = Vec::new();
            for g in store.groups()? {
                let members = store.members(&g.id)?;
                human.push(format!("{}\t{}\tdefault {}", g.name, g.id, g.default_tlp));
                for m in &members {
                    human.push(format!(
                        "  {}\tread: {}\twrite: {}",
                        name_of(m.org),
                        m.read,
                        m.write
                    ));
                }
                list.push(json!({
                    "name": g.name, "collection": g.id.0, "default_tlp": g.default_tlp.name(),
                    "members": members.iter().map(|m| json!({"org": name_of(m.org), "read": m.read, "write": m.write})).collect::<Vec<_>>(),
                }));
            }
            print(j, json!(list), human.join("\n"));
        }
        What::Key(KeyCmd::Create { org, role, member }) => {
            let o = store.org_by_name(&org)?;
            let (secret, key) = create_key(store, o.id, &member, role, clock.now_nanos())?;
            if j {
                println!(
                    "{}",
                    json!({"id": key.id.0, "key": secret, "org": o.name, "member": member, "role": role.as_str()})
                );
            } else {
                eprintln!(
                    "created key {} for {member} of `{}` ({}); store it now, it is not shown again:",
                    key.id,
                    o.name,
                    role.as_str()
                );
                println!("{secret}");
            }
        }
        What::Key(KeyCmd::Revoke { id }) => {
            store.revoke_key(&KeyId(id.clone()), clock.now_nanos())?;
            print(
                j,
                json!({"id": id, "revoked": true}),
                format!("revoked key {id}"),
            );
        }
        What::KnownGood(cmd) => known_good(store, j, cmd, clock.now_nanos())?,
        What::Key(KeyCmd::List { org }) => {
            let o = store.org_by_name(&org)?;
            let keys = store.keys(o.id)?;
            let fmt = |t: Option<i64>| t.map(|n| accord_stix::time::format_nanos(n, 0));
            let list: Vec<_> = keys
                .iter()
                .map(|k| json!({"id": k.id.0, "member": k.member, "role": k.role.as_str(), "created": fmt(Some(k.created)), "last_used": fmt(k.last_used), "revoked": fmt(k.revoked)}))
                .collect();
            let human = keys
                .iter()
                .map(|k| {
                    format!(
                        "{}\t{}\t{}\tcreated {}\tlast used {}\t{}",
                        k.id,
                        k.member,
                        k.role.as_str(),
                        fmt(Some(k.created)).unwrap_or_default(),
                        fmt(k.last_used).unwrap_or_else(|| "never".into()),
                        fmt(k.revoked).map_or_else(|| "active".into(), |r| format!("revoked {r}"))
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            print(j, json!(list), human);
        }
    }
    Ok(())
}

fn list_owner(store: &dyn Store, list: &ListArg) -> anyhow::Result<Option<accord_store::OrgId>> {
    match &list.org {
        Some(name) if !list.exchange => Ok(Some(store.org_by_name(name)?.id)),
        _ => Ok(None),
    }
}

fn known_good(store: &dyn Store, j: bool, cmd: KnownGoodCmd, now: i64) -> anyhow::Result<()> {
    match cmd {
        KnownGoodCmd::Add {
            list,
            observable,
            note,
        } => {
            let owner = list_owner(store, &list)?;
            let obs = accord_match::normalize::parse_observable(&observable)?;
            // Stored as the canonical text, split at its first colon, so that it reads back
            // as the same observable.
            let text = obs.to_string();
            let (kind, value) = text.split_once(':').unwrap_or((obs.kind(), obs.value()));
            let e = store.add_known_good(owner, kind, value, &note, now)?;
            print(
                j,
                json!({"id": e.id, "observable": obs.to_string(), "note": e.note}),
                format!("{}\t{obs}\t{}", e.id, e.note),
            );
        }
        KnownGoodCmd::Remove { list, id } => {
            let owner = list_owner(store, &list)?;
            if !store.remove_known_good(owner, &id)? {
                anyhow::bail!("no entry {id} on that list (see `accord admin known-good list`)");
            }
            print(
                j,
                json!({"id": id, "removed": true}),
                format!("removed {id}"),
            );
        }
        KnownGoodCmd::List { list } => {
            let owner = list_owner(store, &list)?;
            let entries = store.known_good(owner)?;
            let rows: Vec<_> = entries
                .iter()
                .map(|e| json!({"id": e.id, "observable": format!("{}:{}", e.sco_type, e.value), "note": e.note}))
                .collect();
            let human = entries
                .iter()
                .map(|e| format!("{}\t{}:{}\t{}", e.id, e.sco_type, e.value, e.note))
                .collect::<Vec<_>>()
                .join("\n");
            print(j, json!(rows), human);
        }
    }
    Ok(())
}

/// Makes a key for an organisation; returns the secret (to show once) and the record.
pub fn create_key(
    store: &dyn Store,
    org: accord_store::OrgId,
    member: &str,
    role: Role,
    now: i64,
) -> anyhow::Result<(String, accord_store::ApiKey)> {
    let k = accord_server::auth::new_key();
    let rec = store.create_key(org, member, role, &k.hash, now)?;
    Ok((k.secret, rec))
}

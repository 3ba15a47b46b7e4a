//! The persons and what happens to them first: `person`, `import`, `intake`, `referral`.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use serde_json::Value as Json;

use crate::common::{confirm, db_path, flag_pairs, id, open, pairs, read_file, Failure};
use crate::output::{self, json};

/// `masar person add`: the fields of a new person.
#[derive(Args)]
pub(crate) struct PersonAdd {
    /// Given name, in Latin letters.
    #[arg(long)]
    given: Option<String>,
    /// Family name, in Latin letters.
    #[arg(long)]
    family: Option<String>,
    /// female, male or other.
    #[arg(long)]
    sex: Option<String>,
    /// Date of birth (YYYY-MM-DD); or --birth-year.
    #[arg(long)]
    born: Option<String>,
    /// The year of birth, when only an approximate age is known ("born about 1988").
    #[arg(long = "birth-year")]
    birth_year: Option<String>,
    /// Nationality: ISO three-letter code (SYR, COD, YEM…).
    #[arg(long)]
    nationality: Option<String>,
    /// Given name in Arabic letters.
    #[arg(long = "given-ar")]
    given_ar: Option<String>,
    /// Family name in Arabic letters.
    #[arg(long = "family-ar")]
    family_ar: Option<String>,
    /// UNHCR registration number.
    #[arg(long = "unhcr-id")]
    unhcr_id: Option<String>,
    /// City, from the organisation's list.
    #[arg(long)]
    city: Option<String>,
    /// Phone number.
    #[arg(long)]
    phone: Option<String>,
    /// The day the person consented to their data being kept (YYYY-MM-DD).
    #[arg(long)]
    consent: Option<String>,
    /// Any other field, as KEY=VALUE (repeatable).
    #[arg(long = "set")]
    set: Vec<String>,
}

/// `masar person`: register, correct, find, erase.
#[derive(Subcommand)]
// Parsed once per run: the size of the largest variant costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
pub(crate) enum PersonCmd {
    /// Register a person.
    Add(PersonAdd),
    /// Change fields: KEY=VALUE … (keys as `person get` prints them).
    Set {
        /// The person's id.
        id: String,
        /// Fields to change, KEY=VALUE (an empty VALUE clears it).
        #[arg(required = true)]
        pairs: Vec<String>,
    },
    /// Show a person.
    Get {
        /// The record's id.
        id: String,
    },
    /// List persons, or those matching a fragment of name, UNHCR id or phone, best matches
    /// first (a whole UNHCR number or phone, a whole word, a word's beginning, a fragment).
    List {
        /// A fragment of a name (either script), a UNHCR number or a phone.
        #[arg(long)]
        search: Option<String>,
        /// Answer one page of at most N persons (up to 200), with the total count.
        #[arg(long)]
        limit: Option<u32>,
        /// With --limit: the persons to skip (the next page starts at the previous offset + N).
        #[arg(long, default_value_t = 0)]
        offset: u32,
    },
    /// Erase a person's personal data (asks for confirmation on a terminal).
    Erase {
        /// The person's id.
        id: String,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
}

impl PersonCmd {
    /// Runs the `person` command given.
    pub(crate) fn run(self, path: &Path) -> Result<Json, Failure> {
        let mut m = open(path)?;
        match self {
            PersonCmd::Add(p) => {
                let fields = flag_pairs(&[
                    ("given", &p.given),
                    ("family", &p.family),
                    ("given_ar", &p.given_ar),
                    ("family_ar", &p.family_ar),
                    ("sex", &p.sex),
                    ("born", &p.born),
                    ("birth_year", &p.birth_year),
                    ("nationality", &p.nationality),
                    ("unhcr_id", &p.unhcr_id),
                    ("city", &p.city),
                    ("phone", &p.phone),
                    ("consent", &p.consent),
                ]);
                let mut fields = fields;
                fields.extend(pairs(&p.set)?);
                Ok(id(m.add_person(masar_core::NewPerson {
                    fields: masar_core::Fields(fields),
                    intake_date: None,
                })?))
            }
            PersonCmd::Set { id: pid, pairs: kv } => {
                m.set_person(&pid, &pairs(&kv)?)?;
                Ok(id(pid))
            }
            PersonCmd::Get { id } => Ok(json(&m.person(&id)?)),
            // Written person by person by `list_all_persons`, before `run`.
            PersonCmd::List { limit: None, .. } => Err(Failure::usage(
                "person list without --limit is written as it is read",
            )),
            PersonCmd::List {
                search,
                limit: Some(limit),
                offset,
            } => {
                let query = masar_core::PersonQuery {
                    search,
                    limit,
                    offset,
                    ..Default::default()
                };
                let mut page = m.persons_page(&query)?;
                // The window's list of cities is not this answer's business.
                page.cities.clear();
                Ok(json(&page))
            }
            PersonCmd::Erase { id: pid, yes } => {
                let name = m.person(&pid)?.display_name();
                if !yes && !confirm(&format!("Erase the personal data of {name} ({pid}) on this laptop and, through sync, everywhere? This cannot be undone."))? {
                    return Err(Failure::refused("erasure cancelled: nothing was changed"));
                }
                m.erase_person(&pid)?;
                Ok(id(pid))
            }
        }
    }
}

/// `person list` without `--limit`: the whole register (or every match), written person by
/// person as it is read, so that neither the list nor its JSON is ever held whole.
pub(crate) fn list_all_persons(
    db: Option<PathBuf>,
    search: Option<&str>,
    as_json: bool,
) -> Result<(), Failure> {
    use std::io::Write;
    let m = open(&db_path(db)?)?;
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let mut written = 0u64;
    // The first write that fails stops the writing; a reader that stopped reading
    // (`| head -1`) is not a failure.
    let mut failed: Option<std::io::Error> = None;
    let write = |out: &mut std::io::BufWriter<std::io::StdoutLock<'_>>,
                 failed: &mut Option<std::io::Error>,
                 text: &str| {
        if failed.is_none() {
            *failed = out.write_all(text.as_bytes()).err();
        }
    };
    let listed = m.each_person(search, |person| {
        let text = if as_json {
            let item = json(&person).to_string();
            format!("{}{item}", if written == 0 { "[" } else { "," })
        } else {
            format!(
                "{}{}",
                if written == 0 { "" } else { "\n" },
                output::render(&json(&person), false)
            )
        };
        written += 1;
        write(&mut out, &mut failed, &text);
        // Nobody reads any more: stop reading the register too (the error is not shown).
        match failed {
            Some(_) => Err(masar_core::Error::Store(masar_core::StoreError::Busy)),
            None => Ok(()),
        }
    });
    if failed.is_none() {
        listed?;
    }
    let end = match (as_json, written) {
        (true, 0) => "[]\n",
        (true, _) => "]\n",
        (false, 0) => "(none)\n",
        (false, _) => "",
    };
    write(&mut out, &mut failed, end);
    let failed = failed.or_else(|| out.flush().err());
    match failed {
        Some(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Failure { message: format!("the answer could not be written ({e}): check where the output goes (disk space, a closed terminal)"), status: 5 })
        }
        _ => Ok(()),
    }
}

/// `masar import`: what file to import.
#[derive(Args)]
pub(crate) struct ImportArgs {
    #[command(subcommand)]
    what: ImportWhat,
}

/// The kinds of file `masar import` reads.
#[derive(Subcommand)]
enum ImportWhat {
    /// Persons from a CSV file, all rows or none.
    Persons {
        /// The CSV file: a header row of field names (given, family, sex, born, nationality, …).
        file: PathBuf,
    },
}

impl ImportArgs {
    /// Imports the file, all of it or nothing.
    pub(crate) fn run(self, path: &Path) -> Result<Json, Failure> {
        match self.what {
            ImportWhat::Persons { file } => {
                let data = read_file(&file)?;
                let mut m = open(path)?;
                Ok(json(&m.import_persons_csv(&data)?))
            }
        }
    }
}

/// `masar intake`: reception interviews.
#[derive(Subcommand)]
pub(crate) enum IntakeCmd {
    /// Record a reception interview.
    Add {
        /// The person's id.
        person: String,
        /// The day of the interview (YYYY-MM-DD).
        #[arg(long)]
        date: String,
        /// Who referred the person (free text).
        #[arg(long)]
        referral: Option<String>,
    },
}

impl IntakeCmd {
    /// Runs the `intake` command given.
    pub(crate) fn run(self, path: &Path) -> Result<Json, Failure> {
        match self {
            IntakeCmd::Add {
                person,
                date,
                referral,
            } => {
                let mut m = open(path)?;
                Ok(id(m.add_intake(masar_core::NewIntake {
                    person,
                    date,
                    referral,
                })?))
            }
        }
    }
}

/// `masar referral`: referrals to partners.
#[derive(Subcommand)]
pub(crate) enum ReferralCmd {
    /// Refer a person to a partner.
    Add {
        /// The person's id.
        person: String,
        /// The partner, from the organisation's list.
        #[arg(long)]
        partner: String,
        /// The day of the referral (YYYY-MM-DD).
        #[arg(long)]
        date: String,
        /// pending, accepted, completed or declined.
        #[arg(long)]
        status: Option<String>,
    },
}

impl ReferralCmd {
    /// Runs the `referral` command given.
    pub(crate) fn run(self, path: &Path) -> Result<Json, Failure> {
        match self {
            ReferralCmd::Add {
                person,
                partner,
                date,
                status,
            } => {
                let mut m = open(path)?;
                Ok(id(m.add_referral(masar_core::NewReferral {
                    person,
                    partner,
                    date,
                    status,
                })?))
            }
        }
    }
}

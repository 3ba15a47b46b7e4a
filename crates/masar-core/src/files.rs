//! Files Masar writes and reads outside its database: written whole or not at all,
//! readable by their owner only, and read only when they are what they claim to be.
//!
//! A shared sync folder is written by others: a name there may be a symlink to a file of
//! this user's, a FIFO that never ends, or a device that never stops. So a temporary file
//! is always a new one (never opened through an existing name), and a file is read only
//! if it is a regular file, at most `max` bytes.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use rand::RngCore;

/// Opens a new file at `path` that only its owner may read or write; fails if anything
/// already has that name (a symlink included).
pub(crate) fn create_private(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// Writes `bytes` to `path` atomically: a new temporary file beside it (owner-only, a
/// fresh random name), flushed to disk, then renamed over `path`; the folder is flushed
/// too. A reader sees the old file or the whole new one, never a part.
pub(crate) fn write_private_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_private_atomically_with(path, |f| f.write_all(bytes))
}

/// As [`write_private_atomically`], with `write` filling the temporary file as it goes
/// (a file too large to hold in memory); an error from it leaves no file behind.
pub(crate) fn write_private_atomically_with(
    path: &Path,
    write: impl FnOnce(&mut File) -> io::Result<()>,
) -> io::Result<()> {
    let mut suffix = [0u8; 8];
    rand::rngs::OsRng.fill_bytes(&mut suffix);
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{}.partial", hex::encode(suffix)));
    let tmp = PathBuf::from(name);
    let result = (|| {
        let mut f = create_private(&tmp)?;
        write(&mut f)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            sync_dir(dir);
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Flushes a folder's entries (a rename into it) to disk, where the system allows it.
pub(crate) fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Why a folder Masar writes into was refused.
#[derive(Debug)]
pub(crate) enum DirRefusal {
    /// A symbolic link (or swapped for one while it was checked): writing through it would
    /// write, and remove, wherever it points.
    Link,
    /// Something other than a folder has its name.
    NotDir,
    /// The system refused.
    Io(io::Error),
}

/// Checks that `path` is a real folder and not a link to one, making it first (one level,
/// never its parents) when it is missing and `make` is set. The folder is opened without
/// following a link and compared (device and inode) with what its name holds, so a link
/// swapped in between the two looks is caught too.
pub(crate) fn real_dir(path: &Path, make: bool) -> Result<(), DirRefusal> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound && make => {
            // create_dir does not follow a dangling link of that name: it fails instead.
            match std::fs::create_dir(path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(DirRefusal::Io(e)),
            }
            std::fs::symlink_metadata(path).map_err(DirRefusal::Io)?
        }
        Err(e) => return Err(DirRefusal::Io(e)),
    };
    if meta.file_type().is_symlink() {
        return Err(DirRefusal::Link);
    }
    if !meta.is_dir() {
        return Err(DirRefusal::NotDir);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
        let opened = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW)
            .open(path)
            .map_err(|e| match e.raw_os_error() {
                Some(libc::ELOOP) | Some(libc::ENOTDIR) => DirRefusal::Link,
                _ => DirRefusal::Io(e),
            })?;
        let held = opened.metadata().map_err(DirRefusal::Io)?;
        if (held.dev(), held.ino()) != (meta.dev(), meta.ino()) {
            return Err(DirRefusal::Link);
        }
    }
    Ok(())
}

/// Why a file was not read.
#[derive(Debug)]
pub(crate) enum ReadRefusal {
    /// A symlink, a FIFO, a device or a folder.
    NotRegular,
    /// Larger than allowed.
    TooLarge,
    /// Larger than the memory this process may still take: refused rather than aborted.
    NoMemory,
    /// The system refused.
    Io(io::Error),
}

/// Reads a regular file of at most `max` bytes, without following a symlink and without
/// waiting on a FIFO.
pub(crate) fn read_regular(path: &Path, max: u64) -> Result<Vec<u8>, ReadRefusal> {
    let file = open_regular(path, max)?;
    let len = file.metadata().map_err(ReadRefusal::Io)?.len();
    // The size is known from the metadata: asked for once, so a file too large for this
    // process's memory is refused with a message instead of aborting it.
    let mut bytes = Vec::new();
    bytes
        .try_reserve_exact(usize::try_from(len).map_err(|_| ReadRefusal::TooLarge)?)
        .map_err(|_| ReadRefusal::NoMemory)?;
    file.take(max + 1).read_to_end(&mut bytes).map_err(|e| {
        if e.kind() == io::ErrorKind::OutOfMemory {
            ReadRefusal::NoMemory
        } else {
            ReadRefusal::Io(e)
        }
    })?;
    if bytes.len() as u64 > max {
        return Err(ReadRefusal::TooLarge);
    }
    Ok(bytes)
}

/// The first `n` bytes of a regular file of any size (fewer if it is shorter), read as
/// [`read_regular`] reads.
pub(crate) fn read_regular_start(path: &Path, n: u64) -> Result<Vec<u8>, ReadRefusal> {
    let mut bytes = Vec::new();
    open_regular(path, u64::MAX)?
        .take(n)
        .read_to_end(&mut bytes)
        .map_err(ReadRefusal::Io)?;
    Ok(bytes)
}

/// Opens a regular file of at most `max` bytes as [`read_regular`] does, to read it in parts.
pub(crate) fn open_regular(path: &Path, max: u64) -> Result<std::fs::File, ReadRefusal> {
    let meta = std::fs::symlink_metadata(path).map_err(ReadRefusal::Io)?;
    if !meta.file_type().is_file() {
        return Err(ReadRefusal::NotRegular);
    }
    if meta.len() > max {
        return Err(ReadRefusal::TooLarge);
    }
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Whatever was swapped in since the check: no symlink followed, no FIFO waited on.
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(ReadRefusal::Io)?;
    if !file
        .metadata()
        .map_err(ReadRefusal::Io)?
        .file_type()
        .is_file()
    {
        return Err(ReadRefusal::NotRegular);
    }
    Ok(file)
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn a_written_file_is_its_owners_only_and_a_planted_temporary_name_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, b"keep me").unwrap();
        let out = dir.path().join("out.masar");
        // The old temporary name, planted as a symlink to the victim.
        std::os::unix::fs::symlink(&victim, dir.path().join("out.masar.partial")).unwrap();
        write_private_atomically(&out, b"bundle").unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"keep me");
        assert_eq!(std::fs::read(&out).unwrap(), b"bundle");
        assert_eq!(
            std::fs::metadata(&out).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    #[test]
    fn a_link_to_a_folder_is_not_taken_for_a_folder_and_a_missing_one_is_made() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        std::fs::create_dir(&target).unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(matches!(real_dir(&link, true), Err(DirRefusal::Link)));
        let dangling = dir.path().join("dangling");
        std::os::unix::fs::symlink(dir.path().join("nowhere"), &dangling).unwrap();
        assert!(matches!(real_dir(&dangling, true), Err(DirRefusal::Link)));
        assert!(
            !dir.path().join("nowhere").exists(),
            "nothing made through the link"
        );
        let file = dir.path().join("file");
        std::fs::write(&file, b"x").unwrap();
        assert!(matches!(real_dir(&file, true), Err(DirRefusal::NotDir)));
        let fresh = dir.path().join("fresh");
        real_dir(&fresh, true).unwrap();
        assert!(fresh.is_dir());
        real_dir(&target, false).unwrap();
        assert!(matches!(
            real_dir(&dir.path().join("missing"), false),
            Err(DirRefusal::Io(_))
        ));
    }

    #[test]
    fn only_regular_files_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo.masar");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(status.success());
        assert!(matches!(
            read_regular(&fifo, 1 << 20),
            Err(ReadRefusal::NotRegular)
        ));
        let zero = dir.path().join("zero.masar");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        assert!(matches!(
            read_regular(&zero, 1 << 20),
            Err(ReadRefusal::NotRegular)
        ));
        let big = dir.path().join("big.masar");
        std::fs::write(&big, vec![0u8; 2048]).unwrap();
        assert!(matches!(
            read_regular(&big, 1024),
            Err(ReadRefusal::TooLarge)
        ));
        assert_eq!(read_regular(&big, 4096).unwrap().len(), 2048);
    }
}

/// Keeps the process's memory, which holds keys and personal data, out of core dumps and
/// away from other processes of the same user (Linux: not dumpable, no core file).
pub fn harden_process() {
    #[cfg(unix)]
    {
        let none = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: setrlimit reads the struct passed; failure leaves the limit as it was.
        unsafe {
            libc::setrlimit(libc::RLIMIT_CORE, &none);
        }
    }
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_DUMPABLE takes a plain integer and changes only this process's flag.
    unsafe {
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
    }
}

#[cfg(all(test, target_os = "linux"))]
mod hardening {
    #[test]
    fn a_hardened_process_leaves_no_core_and_cannot_be_dumped() {
        super::harden_process();
        let mut limit = libc::rlimit {
            rlim_cur: 1,
            rlim_max: 1,
        };
        // SAFETY: getrlimit writes into the struct passed; prctl reads a plain integer.
        let (got, dumpable) = unsafe {
            (
                libc::getrlimit(libc::RLIMIT_CORE, &mut limit),
                libc::prctl(libc::PR_GET_DUMPABLE, 0, 0, 0, 0),
            )
        };
        assert_eq!(
            (got, limit.rlim_cur, limit.rlim_max, dumpable),
            (0, 0, 0, 0)
        );
    }
}

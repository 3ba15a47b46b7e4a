//! Watching the sync folder for other laptops' new bundles: file-system events (`notify`:
//! inotify, FSEvents, ReadDirectoryChangesW) for a quick answer, and a listing of the
//! folder every few seconds as the fallback, since events do not arrive from network
//! shares and are lost when a stick is pulled and plugged in again. Both are judged by the
//! same fingerprint (each bundle's name, size and time in the other laptops'
//! subfolders), so a change in this laptop's own subfolder, or an event that changed
//! nothing, wakes nobody.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant, SystemTime};

use notify::{RecursiveMode, Watcher};

use super::folder::SYNC_SUBFOLDER;

/// How often the folder is listed when no event comes.
const POLL: Duration = Duration::from_secs(3);
/// How often a stop is looked for while waiting.
const TICK: Duration = Duration::from_millis(200);

type Fingerprint = Vec<(PathBuf, u64, Option<SystemTime>)>;

/// A watch on a sync folder, for one laptop (whose own subfolder it ignores).
pub struct FolderWatch {
    folder: PathBuf,
    own: String,
    events: Option<(notify::RecommendedWatcher, Receiver<()>)>,
    last: Fingerprint,
}

impl FolderWatch {
    /// Watches `folder` for the bundles of laptops other than `own_device`; what is there
    /// now counts as seen.
    pub fn new(folder: &Path, own_device: &str) -> FolderWatch {
        let mut watch = FolderWatch {
            folder: folder.to_path_buf(),
            own: own_device.to_string(),
            events: None,
            last: Vec::new(),
        };
        watch.last = watch.fingerprint();
        watch.listen();
        watch
    }

    /// Starts listening to the folder's events, if it is there and the system gives them.
    fn listen(&mut self) {
        if self.events.is_some() || !self.folder.is_dir() {
            return;
        }
        let (tx, rx) = channel();
        let watcher = notify::recommended_watcher(move |_event: notify::Result<notify::Event>| {
            let _ = tx.send(());
        });
        if let Ok(mut watcher) = watcher {
            if watcher
                .watch(&self.folder, RecursiveMode::Recursive)
                .is_ok()
            {
                self.events = Some((watcher, rx));
            }
        }
    }

    /// The other laptops' bundle files as they are now; empty when the folder is not there.
    fn fingerprint(&self) -> Fingerprint {
        let mut out = Vec::new();
        let Ok(devices) = std::fs::read_dir(self.folder.join(SYNC_SUBFOLDER)) else {
            return out;
        };
        for device in devices.filter_map(|e| e.ok()) {
            if device.file_name().to_string_lossy() == self.own.as_str() {
                continue;
            }
            let Ok(files) = std::fs::read_dir(device.path()) else {
                continue;
            };
            // Only bundles ready to read: an acknowledgement rewritten, or a file still being
            // copied, must not wake anyone (two watchers would wake each other for ever).
            for file in files.filter_map(|e| e.ok()) {
                let name = file.file_name().to_string_lossy().into_owned();
                if !name.ends_with(".masar") || super::folder::not_yet(&name).is_some() {
                    continue;
                }
                if let Ok(meta) = file.metadata() {
                    out.push((file.path(), meta.len(), meta.modified().ok()));
                }
            }
        }
        out.sort();
        out
    }

    /// Waits until other laptops' files change (true), `timeout` passes or `stop` is set
    /// (false).
    pub fn wait(&mut self, timeout: Duration, stop: &AtomicBool) -> bool {
        let end = Instant::now() + timeout;
        let mut next_poll = Instant::now() + POLL;
        while Instant::now() < end && !stop.load(Ordering::SeqCst) {
            let mut look = Instant::now() >= next_poll;
            if let Some((_, rx)) = &self.events {
                match rx.recv_timeout(TICK) {
                    Ok(()) => {
                        // A burst of events (a file being copied) is looked at once.
                        while rx.try_recv().is_ok() {}
                        look = true;
                    }
                    Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                    // The watched folder went away (a stick pulled): back to listing.
                    Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => self.events = None,
                }
            } else {
                std::thread::sleep(TICK);
            }
            if look {
                next_poll = Instant::now() + POLL;
                self.listen();
                let now = self.fingerprint();
                if now != self.last {
                    self.last = now;
                    return true;
                }
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file in another laptop's subfolder wakes the watch, one in this laptop's own does
    /// not, and a stop ends the wait at once.
    #[test]
    fn another_laptops_file_wakes_the_watch_and_its_own_does_not() {
        let dir = tempfile::tempdir().expect("dir");
        let own = dir.path().join(SYNC_SUBFOLDER).join("me");
        let other = dir.path().join(SYNC_SUBFOLDER).join("them");
        std::fs::create_dir_all(&own).expect("dir");
        std::fs::create_dir_all(&other).expect("dir");
        let mut watch = FolderWatch::new(dir.path(), "me");
        let stop = AtomicBool::new(false);
        std::fs::write(own.join("mine.masar"), b"x").expect("write");
        assert!(
            !watch.wait(Duration::from_millis(800), &stop),
            "its own file woke it"
        );
        // Another laptop's acknowledgement, or a bundle still being copied, wakes nobody.
        std::fs::write(other.join("acknowledged.json"), b"{}").expect("write");
        std::fs::write(other.join(".syncthing.theirs.masar.tmp"), b"x").expect("write");
        assert!(
            !watch.wait(Duration::from_millis(3500), &stop),
            "an acknowledgement or a partial copy woke it"
        );
        std::fs::write(other.join("theirs.masar"), b"x").expect("write");
        let t = Instant::now();
        assert!(
            watch.wait(Duration::from_secs(10), &stop),
            "another laptop's file did not wake it"
        );
        assert!(t.elapsed() < Duration::from_secs(5));
        stop.store(true, Ordering::SeqCst);
        let t = Instant::now();
        assert!(!watch.wait(Duration::from_secs(10), &stop));
        assert!(t.elapsed() < Duration::from_secs(1));
    }

    /// A folder that appears later (a stick plugged in) is found by listing.
    #[test]
    fn a_folder_that_appears_later_is_found() {
        let dir = tempfile::tempdir().expect("dir");
        let stick = dir.path().join("stick");
        let mut watch = FolderWatch::new(&stick, "me");
        let stop = AtomicBool::new(false);
        assert!(!watch.wait(Duration::from_millis(300), &stop));
        std::fs::create_dir_all(stick.join(SYNC_SUBFOLDER).join("them")).expect("dir");
        std::fs::write(
            stick.join(SYNC_SUBFOLDER).join("them").join("b.masar"),
            b"x",
        )
        .expect("write");
        assert!(watch.wait(Duration::from_secs(10), &stop));
    }
}

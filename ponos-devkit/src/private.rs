//! Files that hold secrets (keystores, sandbox operator keys): readable by their owner only,
//! in directories only their owner can list. Modes are set on every write, so a file that
//! existed with looser permissions is tightened too.

use std::path::Path;

/// Creates `dir` (and its parents) readable by its owner only (0700 on Unix).
pub fn create_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)?;
    set_mode(dir, 0o700)
}

/// Writes `contents` to `path`, readable and writable by its owner only (0600 on Unix).
pub fn write(path: &Path, contents: impl AsRef<[u8]>) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    set_mode(path, 0o600)?;
    file.write_all(contents.as_ref())?;
    file.sync_all()
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_: &Path, _: u32) -> std::io::Result<()> {
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    #[test]
    fn secrets_are_the_owners_only_even_over_an_open_file() {
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("keys/nested");
        create_dir(&keys).unwrap();
        let file = keys.join("k.json");
        std::fs::write(&file, "old").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        write(&file, "secret").unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&file), 0o600);
        assert_eq!(mode(&keys), 0o700);
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "secret");
    }
}

//! Zip archives as the publisher's export and import carry them (WSO2's project layout), and
//! other small encodings REST paths use.

use std::io::{Cursor, Read, Write};
use std::path::Path;

use base64::Engine;

/// The names of an archive's entries, in the archive's order.
pub fn zip_entries(bytes: &[u8]) -> Vec<String> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).expect("a zip archive");
    (0..archive.len())
        .map(|i| {
            archive
                .by_index(i)
                .expect("an entry")
                .name()
                .expect("a name")
                .to_string()
        })
        .collect()
}

/// One entry's bytes.
pub fn zip_entry(bytes: &[u8], name: &str) -> Vec<u8> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).expect("a zip archive");
    let mut entry = archive.by_name(name).expect("the entry");
    let mut content = Vec::new();
    entry.read_to_end(&mut content).expect("read the entry");
    content
}

/// An archive of these (name, bytes) entries.
pub fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes) in entries {
        writer
            .start_file(*name, zip::write::SimpleFileOptions::default())
            .expect("start an entry");
        writer.write_all(bytes).expect("write an entry");
    }
    writer.finish().expect("finish the archive").into_inner()
}

/// A directory as an archive, entries named relative to `base`, in name order.
pub fn zip_directory(base: &Path, dir: &Path) -> Vec<u8> {
    fn walk(path: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(path).expect("read a directory") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(dir, &mut files);
    files.sort();
    let contents: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|file| {
            let name = file
                .strip_prefix(base)
                .expect("under the base")
                .to_string_lossy()
                .to_string();
            (name, std::fs::read(file).expect("read a file"))
        })
        .collect();
    let entries: Vec<(&str, &[u8])> = contents
        .iter()
        .map(|(name, bytes)| (name.as_str(), bytes.as_slice()))
        .collect();
    zip_of(&entries)
}

/// Unpadded base64url, as WSO2 puts role and scope names in paths.
pub fn base64url(text: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

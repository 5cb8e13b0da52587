//! Which directory is the repository: the top of the git work tree goshi starts in.

use std::path::{Path, PathBuf};

/// The top of the git work tree containing `dir`: the nearest ancestor (or `dir` itself)
/// holding a `.git` directory, or a `.git` file as worktrees and submodules have. Found by
/// walking up, so no git binary is needed. None outside any work tree.
pub fn git_work_tree_top(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .find(|d| {
            let git = d.join(".git");
            // symlink_metadata: a `.git` symlink is not followed to decide this.
            std::fs::symlink_metadata(&git)
                .map(|m| m.is_dir() || m.is_file())
                .unwrap_or(false)
        })
        .map(Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_top_is_found_from_deep_inside_and_from_the_top_itself() {
        let d = tempfile::tempdir().unwrap();
        let top = d.path().join("repo");
        std::fs::create_dir_all(top.join(".git")).unwrap();
        std::fs::create_dir_all(top.join("a/b/c")).unwrap();
        assert_eq!(git_work_tree_top(&top.join("a/b/c")), Some(top.clone()));
        assert_eq!(git_work_tree_top(&top), Some(top.clone()));
    }

    #[test]
    fn a_git_file_marks_a_worktree_or_submodule_top() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("outer/.git")).unwrap();
        let sub = d.path().join("outer/sub");
        std::fs::create_dir_all(sub.join("x")).unwrap();
        std::fs::write(sub.join(".git"), "gitdir: ../.git/modules/sub\n").unwrap();
        assert_eq!(git_work_tree_top(&sub.join("x")), Some(sub));
    }

    #[test]
    fn outside_a_work_tree_there_is_none() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("plain/dir")).unwrap();
        // The temp dir itself could sit inside a work tree on a developer's machine.
        if git_work_tree_top(d.path()).is_none() {
            assert_eq!(git_work_tree_top(&d.path().join("plain/dir")), None);
        }
    }
}

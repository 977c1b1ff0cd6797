/// Release metadata and the deploying user, read from the environment a deploy runs in: Slipway's own variables, and
/// those GitHub Actions and GitLab CI set for every job.
extension ReleaseMetadata {
    /// What the environment says about the release: `SLIPWAY_COMMIT`, `SLIPWAY_BUILD`, `SLIPWAY_SOURCE_URL`,
    /// `SLIPWAY_CHANGES_URL` and `SLIPWAY_AUTHOR` first, then a CI system's own variables.
    ///
    /// - GitHub Actions: `GITHUB_SHA` is the commit; the run (`GITHUB_SERVER_URL`/`GITHUB_REPOSITORY`/actions/runs/
    ///   `GITHUB_RUN_ID`) the build; the commit's page the source; a pull request's page (from `GITHUB_REF`
    ///   `refs/pull/N/merge`) the changes; `GITHUB_ACTOR` the author.
    /// - GitLab CI: `CI_COMMIT_SHA`, `CI_PIPELINE_URL`, `CI_PROJECT_URL`/-/commit/SHA, the merge request
    ///   (`CI_MERGE_REQUEST_IID`), and `CI_COMMIT_AUTHOR` or else `GITLAB_USER_LOGIN`.
    public static func detected(in environment: [String: String]) -> ReleaseMetadata {
        func value(_ name: String) -> String? {
            environment[name].flatMap { $0.isEmpty ? nil : $0 }
        }
        var metadata = ReleaseMetadata(
            commit: value("SLIPWAY_COMMIT"),
            build: value("SLIPWAY_BUILD"),
            source: value("SLIPWAY_SOURCE_URL"),
            changes: value("SLIPWAY_CHANGES_URL"),
            author: value("SLIPWAY_AUTHOR")
        )
        var ci = ReleaseMetadata()
        if value("GITHUB_ACTIONS") == "true" || value("GITHUB_SHA") != nil {
            let server = value("GITHUB_SERVER_URL") ?? "https://github.com"
            let repository = value("GITHUB_REPOSITORY").map { "\(server)/\($0)" }
            ci.commit = value("GITHUB_SHA")
            if let repository, let run = value("GITHUB_RUN_ID") { ci.build = "\(repository)/actions/runs/\(run)" }
            if let repository, let commit = ci.commit { ci.source = "\(repository)/commit/\(commit)" }
            if let repository, let ref = value("GITHUB_REF"), ref.hasPrefix("refs/pull/") {
                let number = ref.dropFirst("refs/pull/".count).prefix { $0.isNumber }
                if !number.isEmpty { ci.changes = "\(repository)/pull/\(number)" }
            }
            ci.author = value("GITHUB_ACTOR")
        } else if value("GITLAB_CI") == "true" || value("CI_COMMIT_SHA") != nil {
            let project = value("CI_PROJECT_URL")
            ci.commit = value("CI_COMMIT_SHA")
            ci.build = value("CI_PIPELINE_URL")
            if let project, let commit = ci.commit { ci.source = "\(project)/-/commit/\(commit)" }
            if let project, let request = value("CI_MERGE_REQUEST_IID") {
                ci.changes = "\(project)/-/merge_requests/\(request)"
            }
            ci.author = value("CI_COMMIT_AUTHOR") ?? value("GITLAB_USER_LOGIN")
        }
        for (key, known) in ci.values where metadata.values.first(where: { $0.key == key })?.value == nil {
            metadata.set(key, to: known)
        }
        return metadata
    }

    /// Who runs a job in CI, as the event log should name them: `octocat (GitHub Actions)`, `ada (GitLab CI)`; nil
    /// outside CI.
    public static func ciActor(in environment: [String: String]) -> String? {
        func value(_ name: String) -> String? {
            environment[name].flatMap { $0.isEmpty ? nil : $0 }
        }
        if let actor = value("GITHUB_ACTOR") { return "\(actor) (GitHub Actions)" }
        if let user = value("GITLAB_USER_LOGIN") { return "\(user) (GitLab CI)" }
        return nil
    }
}

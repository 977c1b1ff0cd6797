import Foundation
import SlipwayConfig
import SlipwayCore
import Testing

@testable import SlipwayEngine

/// What a deploy ships, from the flags and the CI's variables into the log.
@Suite struct ReleaseMetadataTests {
    @Test func gitLabAndSlipwaysOwnVariablesAreRead() {
        let gitlab = ReleaseMetadata.detected(in: [
            "GITLAB_CI": "true", "CI_COMMIT_SHA": "9e8d7c",
            "CI_PIPELINE_URL": "https://gitlab.example/acme/shop/-/pipelines/7",
            "CI_PROJECT_URL": "https://gitlab.example/acme/shop", "CI_MERGE_REQUEST_IID": "12",
            "CI_COMMIT_AUTHOR": "Ada Lovelace <ada@example.com>", "GITLAB_USER_LOGIN": "grace",
            // Slipway's own variable wins over the CI's.
            "SLIPWAY_BUILD": "registry.example/shop:9e8d7c",
        ])
        #expect(
            gitlab
                == ReleaseMetadata(
                    commit: "9e8d7c",
                    build: "registry.example/shop:9e8d7c",
                    source: "https://gitlab.example/acme/shop/-/commit/9e8d7c",
                    changes: "https://gitlab.example/acme/shop/-/merge_requests/12",
                    author: "Ada Lovelace <ada@example.com>"
                )
        )
        #expect(ReleaseMetadata.ciActor(in: ["GITLAB_USER_LOGIN": "grace"]) == "grace (GitLab CI)")
        #expect(ReleaseMetadata.detected(in: ["PATH": "/bin", "SLIPWAY_COMMIT": ""]).isEmpty)
        #expect(ReleaseMetadata.ciActor(in: ["USER": "ada"]) == nil)
        // A push (not a pull request) has no changes link.
        let push = ReleaseMetadata.detected(in: ["GITHUB_SHA": "abc", "GITHUB_REF": "refs/heads/main"])
        #expect(push.changes == nil && push.commit == "abc" && push.source == nil)
    }

    @Test func badValuesAreRefusedNamingTheField() {
        #expect(ReleaseMetadata(commit: "3f2c9e1", source: "https://github.com/acme/shop").problem == nil)
        #expect(ReleaseMetadata(source: "github.com/acme").problem?.hasPrefix("release.source: ") == true)
        #expect(ReleaseMetadata(changes: "javascript:alert(1)").problem?.hasPrefix("release.changes: ") == true)
        #expect(ReleaseMetadata(author: "ada\nroot").problem == "release.author: contains a control character")
        #expect(ReleaseMetadata(build: "").problem == "release.build: empty; leave it out instead")
        // A character that combines with the prefix's last `/` still leaves an https link.
        #expect(ReleaseMetadata(source: "https://\u{1F3FB}\u{11C}").problem == nil)
        #expect(
            ReleaseMetadata(commit: String(repeating: "a", count: 1_001)).problem
                == "release.commit: 1001 characters; at most 1000"
        )
        let machine = AppMachine(spec: AppDriver.spec())
        #expect(
            machine.validate(DeployRequest(version: "2.0", release: ReleaseMetadata(source: "ftp://x")))?.message
                == "release.source: \"ftp://x\" is not an http or https link"
        )
    }

    @Test func theReleaseGoesIntoTheLogAndARetryKeepsIt() throws {
        let release = ReleaseMetadata(commit: "3f2c9e1", build: "42", author: "ada")
        var driver = AppDriver()
        driver.wait(5)
        driver.carryOut(
            driver.machine.deploy(
                DeployRequest(version: "2.0", by: "ada@laptop", release: release),
                overriding: [],
                at: driver.now
            )
        )
        let started = try #require(driver.recorded(.rolloutStarted).last)
        #expect(started.fields["release"] == release.json)
        #expect(started.fields["by"] == "ada@laptop")
        let record = try #require(
            RolloutRecord(started: RecordedEvent(id: 1, time: Date(), event: started))
        )
        #expect(record.release == release)
        #expect(ReleaseMetadata(json: started.fields["release"]) == release)
        #expect(release.lines.map(\.label) == ["Commit", "Build", "Author"])

        driver.command(.abort)
        driver.wait(5)
        driver.command(.retry)
        let retried = try #require(driver.recorded(.rolloutStarted).last)
        #expect(retried.fields["rollout"] == 2)
        #expect(retried.fields["release"] == release.json)
    }
}

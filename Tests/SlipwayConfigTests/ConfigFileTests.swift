import Foundation
import SlipwayConfig
import Testing

@Suite("Loading files")
struct ConfigFileTests {
    /// A fresh directory for one test, removed afterwards by the caller.
    private func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "slipway-config-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func relativePathsResolveAgainstTheFileDirectory() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/conf/slipway.yaml"
        try FileManager.default.createDirectory(atPath: directory + "/conf", withIntermediateDirectories: true)
        let yaml = "controller:\n  stateDir: ../state\n" + ConfigFixtures.minimal + "\n      workingDir: ./shop/"
        try yaml.write(toFile: file, atomically: true, encoding: .utf8)

        let config = try ConfigLoader.load(file: file)
        #expect(config.file == file)
        #expect(config.baseDirectory == directory + "/conf")
        #expect(config.controller.stateDirectory == directory + "/state")
        #expect(config.apps[0].run.workingDirectory == directory + "/conf/shop")
    }

    @Test func problemsCarryTheFileNameAsGiven() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/slipway.yaml"
        try "apps: []\n".write(toFile: file, atomically: true, encoding: .utf8)
        #expect(
            throws: ConfigErrors([
                ConfigDiagnostic(
                    file: file,
                    location: SourceLocation(line: 1, column: 7),
                    keyPath: "apps",
                    message: "expected at least one app, got an empty list"
                )
            ])
        ) {
            try ConfigLoader.load(file: file)
        }
    }

    @Test func missingFile() {
        let file = "/nonexistent/slipway.yaml"
        do {
            _ = try ConfigLoader.load(file: file)
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "/nonexistent/slipway.yaml: cannot read: no such file")
            #expect(error.diagnostics.first?.line == 0)
            #expect(error.diagnostics.first?.column == 0)
        }
    }

    @Test func directoryInsteadOfFile() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            _ = try ConfigLoader.load(file: directory)
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "\(directory): cannot read: it is a directory, not a file")
        }
    }
}

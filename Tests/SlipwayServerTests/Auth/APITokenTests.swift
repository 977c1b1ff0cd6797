import Foundation
import SlipwayConfig
import Testing

@testable import SlipwayServer

@Suite struct APITokenTests {
    @Test func theTokenNeverDescribesItself() throws {
        let token = try #require(APIToken(TestTokens.right))
        struct Holder: Encodable { var token: APIToken }
        var dumped = ""
        dump(token, to: &dumped)
        dump(Holder(token: token), to: &dumped)
        let renderings = [
            "\(token)", String(describing: token), String(reflecting: token), dumped,
            String(describing: Holder(token: token)), String(reflecting: Holder(token: token)),
            String(decoding: try JSONEncoder().encode(Holder(token: token)), as: UTF8.self),
        ]
        for text in renderings {
            #expect(!text.contains(TestTokens.right))
            #expect(text.contains("redacted"))
        }
    }

    @Test func aTokenIsReadFromItsEnvironmentVariable() throws {
        let token = try APIToken.read(from: .environment("SLIPWAY_TOKEN"), environment: ["SLIPWAY_TOKEN": "abc"])
        #expect(token.matches("abc"))
        #expect(
            throws: TokenReadError("the environment variable SLIPWAY_TOKEN is not set"),
            performing: { try APIToken.read(from: .environment("SLIPWAY_TOKEN"), environment: [:]) }
        )
        #expect(
            throws: TokenReadError("the environment variable SLIPWAY_TOKEN is empty"),
            performing: { try APIToken.read(from: .environment("SLIPWAY_TOKEN"), environment: ["SLIPWAY_TOKEN": ""]) }
        )
    }

    @Test func aTokenIsReadFromItsFileWithoutTheTrailingNewline() throws {
        let directory = try temporaryDirectory()
        let path = directory + "/token"
        try "abc\n".write(toFile: path, atomically: true, encoding: .utf8)
        let token = try APIToken.read(from: .file(path))
        #expect(token.matches("abc"))
        #expect(!token.matches("abc\n"))
        try "  abc \r\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try APIToken.read(from: .file(path)).matches("abc"))
    }

    @Test func aMissingEmptyOrUnreadableFileIsAClearError() throws {
        let directory = try temporaryDirectory()
        let missing = directory + "/missing"
        #expect(throws: TokenReadError("the token file \(missing) does not exist")) {
            try APIToken.read(from: .file(missing))
        }
        #expect(throws: TokenReadError("the token file \(directory) is a directory")) {
            try APIToken.read(from: .file(directory))
        }
        let empty = directory + "/empty"
        try "\n".write(toFile: empty, atomically: true, encoding: .utf8)
        #expect(throws: TokenReadError("the token file \(empty) is empty")) {
            try APIToken.read(from: .file(empty))
        }
        let binary = directory + "/binary"
        try Data([0xFF, 0xFE, 0x41]).write(to: URL(fileURLWithPath: binary))
        #expect(throws: TokenReadError("the token file \(binary) is not UTF-8 text")) {
            try APIToken.read(from: .file(binary))
        }
    }

    @Test func theConfiguredTokenIsReportedAtControllerToken() throws {
        var config = SlipwayConfig(
            file: "slipway.yaml",
            baseDirectory: "/",
            controller: ControllerSpec(stateDirectory: "/tmp/state", location: SourceLocation(line: 3, column: 3)),
            apps: []
        )
        #expect(try APIToken.configured(in: config, environment: [:]) == nil)
        config.controller.token = .environment("SLIPWAY_TOKEN")
        let token = try APIToken.configured(in: config, environment: ["SLIPWAY_TOKEN": TestTokens.right])
        #expect(token?.matches(TestTokens.right) == true)
        do {
            _ = try APIToken.configured(in: config, environment: [:])
            Issue.record("an unset variable must be refused")
        } catch {
            #expect(error.keyPath == "controller.token")
            #expect(
                error.description
                    == "slipway.yaml:3:3: controller.token: the environment variable SLIPWAY_TOKEN is not set"
            )
        }
    }

    private func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-token-\(UUID())").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}

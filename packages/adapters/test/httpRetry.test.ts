import { assert, describe, it } from "@effect/vitest"
import { NodeHttpClient } from "@effect/platform-node"
import { Duration, Effect } from "effect"
import { HttpClient, HttpClientRequest } from "effect/http"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { exchange } from "../src/internal/httpRetry.ts"

/** Starts a server on 127.0.0.1 that announces a 1000-byte body, sends 10 bytes and drops the connection. */
const truncatingServer = Effect.acquireRelease(
  Effect.callback<{ readonly url: string; readonly close: () => void }>((resume) => {
    const server = createServer((_request, response) => {
      response.writeHead(200, { "content-type": "application/json", "content-length": "1000" })
      response.write('{"page": 1')
      setTimeout(() => response.socket?.destroy(), 20)
    })
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo
      resume(Effect.succeed({ url: `http://127.0.0.1:${port}/`, close: () => server.close() }))
    })
  }),
  (server) => Effect.sync(server.close)
)

describe("exchange", () => {
  it.live("truncated body is transient", () =>
    Effect.gen(function* () {
      const server = yield* truncatingServer
      const client = yield* HttpClient.HttpClient
      const counted: Array<number | string> = []

      const outcome = yield* exchange(client, HttpClientRequest.get(server.url), Duration.seconds(5), (status) =>
        Effect.sync(() => counted.push(status))
      )

      assert.strictEqual(outcome._tag, "Transient")
      if (outcome._tag !== "Transient") return
      assert.strictEqual(outcome.failure.reason, "transport")
      assert.include(outcome.failure.detail, "the response body could not be read")
      assert.deepStrictEqual(counted, ["error"])
    }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici))
  )
})

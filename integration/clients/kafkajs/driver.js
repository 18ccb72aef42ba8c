'use strict'
// KafkaJS driver for the Go package github.com/linkproxy/linkproxy/integration/clients.
//
// Reads one JSON command from stdin, runs it with kafkajs and writes one JSON
// line to stdout:
//   {"ok": true, "result": ..., "observed": ["host:port", ...]}
//   {"ok": false, "error": "...", "unsupported": bool, "timedOut": bool, "result": ..., "observed": [...]}
// Exit status is 0 when ok, 1 otherwise.
//
// Commands (bytes are base64 strings, null for a null key/value):
//   {"op":"produce","brokers":[...],"topic":"t","codec":"none|gzip","records":[{"key":..,"value":..,"headers":{..}}]}
//   {"op":"consume","brokers":[...],"topic":"t","group":"g","n":10}
//   {"op":"brokers","brokers":[...]}
//   {"op":"createTopic","brokers":[...],"topic":"t","partitions":3}
//   {"op":"describeConfigs","brokers":[...],"topic":"t"}
// Every command may carry "deadlineUnixMs": the script gives up (returning
// what it has) at that time (ms since the epoch).

const { Kafka, logLevel, CompressionTypes, Partitioners, ConfigResourceTypes } = require('kafkajs')

const observed = new Set()

function track(emitter) {
  emitter.on(emitter.events.REQUEST, e => {
    if (e && e.payload && e.payload.broker) observed.add(String(e.payload.broker))
  })
  return emitter
}

function fromB64(s) {
  return s == null ? null : Buffer.from(s, 'base64')
}

function toB64(b) {
  return b == null ? null : Buffer.from(b).toString('base64')
}

class Unsupported extends Error {}

function newKafka(cmd) {
  return new Kafka({
    clientId: 'linkproxy-it-kafkajs',
    brokers: cmd.brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 5000,
    requestTimeout: 10000,
    retry: { initialRetryTime: 100, maxRetryTime: 1000, retries: 10 },
  })
}

// partial is filled by long-running ops so a timeout can report progress.
let partial = null

async function produce(kafka, cmd) {
  let compression
  switch (cmd.codec) {
    case 'none':
    case '':
    case undefined:
      compression = CompressionTypes.None
      break
    case 'gzip':
      compression = CompressionTypes.GZIP
      break
    default:
      // snappy, lz4 and zstd need external codec packages in kafkajs.
      throw new Unsupported(`kafkajs: compression ${cmd.codec} needs a codec plugin`)
  }
  const producer = track(
    kafka.producer({
      allowAutoTopicCreation: true,
      createPartitioner: Partitioners.DefaultPartitioner,
    })
  )
  await producer.connect()
  try {
    await producer.send({
      topic: cmd.topic,
      acks: -1,
      compression,
      messages: (cmd.records || []).map(r => ({
        key: fromB64(r.key),
        value: fromB64(r.value),
        headers: r.headers || undefined,
      })),
    })
  } finally {
    await producer.disconnect()
  }
  return null
}

async function consume(kafka, cmd) {
  const out = []
  partial = out
  const consumer = track(
    kafka.consumer({
      groupId: cmd.group,
      sessionTimeout: 10000,
      rebalanceTimeout: 10000,
      heartbeatInterval: 1000,
      maxWaitTimeInMs: 200,
      retry: { initialRetryTime: 100, maxRetryTime: 1000, retries: 10 },
    })
  )
  let resolveDone
  const done = new Promise(resolve => {
    resolveDone = resolve
  })
  let crashErr = null
  consumer.on(consumer.events.CRASH, e => {
    crashErr = e.payload && e.payload.error
    resolveDone()
  })
  await consumer.connect()
  try {
    await consumer.subscribe({ topics: [cmd.topic], fromBeginning: true })
    if (cmd.n <= 0) resolveDone()
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        if (out.length >= cmd.n) return
        const headers = {}
        let hasHeaders = false
        for (const [k, v] of Object.entries(message.headers || {})) {
          hasHeaders = true
          // kafkajs gives an array for a repeated header key: keep the last.
          const last = Array.isArray(v) ? v[v.length - 1] : v
          headers[k] = last == null ? '' : Buffer.from(last).toString('utf8')
        }
        out.push({
          key: toB64(message.key),
          value: toB64(message.value),
          headers: hasHeaders ? headers : null,
          partition,
          offset: Number(message.offset),
        })
        if (out.length >= cmd.n) resolveDone()
      },
    })
    await done
    if (crashErr) throw crashErr
    // Commit exactly the records returned: next offset per partition.
    const next = new Map()
    for (const r of out) {
      next.set(r.partition, Math.max(next.get(r.partition) || 0, r.offset + 1))
    }
    await consumer.commitOffsets(
      [...next].map(([partition, offset]) => ({ topic: cmd.topic, partition, offset: String(offset) }))
    )
  } finally {
    await consumer.disconnect() // leaves the group
  }
  return out
}

async function withAdmin(kafka, fn) {
  const admin = track(kafka.admin())
  await admin.connect()
  try {
    return await fn(admin)
  } finally {
    await admin.disconnect()
  }
}

async function brokers(kafka) {
  return withAdmin(kafka, async admin => {
    const { brokers } = await admin.describeCluster()
    return brokers.map(b => ({ nodeId: b.nodeId, host: b.host, port: b.port }))
  })
}

async function createTopic(kafka, cmd) {
  return withAdmin(kafka, async admin => {
    const created = await admin.createTopics({
      topics: [{ topic: cmd.topic, numPartitions: cmd.partitions, replicationFactor: -1 }],
      waitForLeaders: true,
    })
    if (!created) throw new Error(`kafkajs: topic ${cmd.topic} already exists`)
    return null
  })
}

async function describeConfigs(kafka, cmd) {
  return withAdmin(kafka, async admin => {
    const res = await admin.describeConfigs({
      resources: [{ type: ConfigResourceTypes.TOPIC, name: cmd.topic }],
      includeSynonyms: false,
    })
    const out = {}
    for (const r of res.resources || []) {
      if (r.errorCode) throw new Error(`kafkajs: describe configs ${cmd.topic}: ${r.errorMessage || r.errorCode}`)
      for (const e of r.configEntries || []) {
        if (e.configValue != null) out[e.configName] = e.configValue
      }
    }
    return out
  })
}

const ops = { produce, consume, brokers, createTopic, describeConfigs }

let finished = false

function finish(obj, code) {
  if (finished) return
  finished = true
  obj.observed = [...observed]
  process.stdout.write(JSON.stringify(obj) + '\n', () => process.exit(code))
}

function describeError(err) {
  if (!err) return 'unknown error'
  let msg = `${err.name || 'Error'}: ${err.message || err}`
  if (err.type) msg += ` (${err.type})`
  if (err.cause && err.cause !== err) msg += `; cause: ${describeError(err.cause)}`
  return msg
}

async function main() {
  const chunks = []
  for await (const c of process.stdin) chunks.push(c)
  const cmd = JSON.parse(Buffer.concat(chunks).toString('utf8'))
  const op = ops[cmd.op]
  if (!op) return finish({ ok: false, error: `unknown op ${cmd.op}` }, 1)
  if (cmd.deadlineUnixMs > 0) {
    const ms = Math.max(cmd.deadlineUnixMs - Date.now(), 0)
    setTimeout(
      () => finish({ ok: false, timedOut: true, error: `kafkajs: ${cmd.op} reached its deadline`, result: partial }, 1),
      ms
    ).unref()
  }
  try {
    const result = await op(newKafka(cmd), cmd)
    finish({ ok: true, result }, 0)
  } catch (err) {
    finish({ ok: false, error: describeError(err), unsupported: err instanceof Unsupported, result: partial }, 1)
  }
}

main().catch(err => finish({ ok: false, error: describeError(err) }, 1))

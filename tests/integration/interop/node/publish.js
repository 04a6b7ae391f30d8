// Publish one CloudEvent to haodian with publisher confirms: node publish.js [--binary] < event.json
// AMQP_URL=amqp://user:password@host:5672/vhost (default: the local broker's default vhost).
'use strict';
const fs = require('node:fs');
const amqp = require('amqplib');

async function main() {
  const url = process.env.AMQP_URL || 'amqp://guest:guest@127.0.0.1:5672/';
  const event = JSON.parse(fs.readFileSync(0, 'utf8'));
  const connection = await amqp.connect(url);
  try {
    const channel = await connection.createConfirmChannel();
    const options = { persistent: true, messageId: event.id, type: event.type };
    let body;
    if (process.argv.includes('--binary')) {
      // Binary mode: the attributes as cloudEvents_* headers, the data as the body.
      const { data, datacontenttype, ...attributes } = event;
      options.headers = Object.fromEntries(
        Object.entries(attributes).map(([name, value]) => [`cloudEvents_${name}`, value]));
      if (datacontenttype) options.contentType = datacontenttype;
      body = Buffer.from(JSON.stringify(data));
    } else {
      // Structured mode: the whole event is the body.
      options.contentType = 'application/cloudevents+json';
      body = Buffer.from(JSON.stringify(event));
    }
    // Exchange haodian.events, routing key = the event's type.
    channel.publish('haodian.events', event.type, body, options);
    await channel.waitForConfirms(); // rejects when the broker did not take the message
    console.log(`confirmed ${event.source} ${event.id}`);
  } finally {
    await connection.close();
  }
}

main().catch((error) => {
  console.error(`not published: ${error.message}`);
  process.exit(1);
});

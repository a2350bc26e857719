import { TableClient } from '@azure/data-tables';
import { QueueClient } from '@azure/storage-queue';
import { testStorageConnectionString, uniqueName } from '../../support/storage';

describe('the Azurite started for the test run', () => {
  it('stores and reads back a table entity and a queue message', async () => {
    const connection = testStorageConnectionString();
    const table = TableClient.fromConnectionString(connection, uniqueName('probe'), { allowInsecureConnection: true });
    await table.createTable();
    await table.createEntity({ partitionKey: 'p', rowKey: 'r', value: 42 });
    expect((await table.getEntity<{ value: number }>('p', 'r')).value).toBe(42);

    const queue = new QueueClient(connection, uniqueName('probe').toLowerCase());
    await queue.create();
    await queue.sendMessage('hello');
    const received = await queue.receiveMessages();
    expect(received.receivedMessageItems[0]?.messageText).toBe('hello');
  });
});

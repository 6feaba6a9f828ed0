import { expect, test, type Page } from '@playwright/test';

type Doc = { metadata: { name: string }; nodes: { id: string; kind: string; params: Record<string, unknown> }[]; edges: { id: string }[] };
const docOf = (page: Page) => page.evaluate(() => (window as unknown as { __gradflow: { store: { getState(): { doc: unknown } } } }).__gradflow.store.getState().doc) as Promise<Doc>;

test.describe('share by link', () => {
  test.beforeEach(async ({ context }) => {
    await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  });

  test('Copy link puts the graph in the URL; opening the link loads the same graph', async ({ page, context }) => {
    await page.goto('/');
    await page.getByRole('button', { name: 'Load MNIST MLP' }).click();
    const original = await docOf(page);
    await page.getByRole('button', { name: 'Copy link' }).click();
    await expect(page.getByRole('status')).toContainText('Link copied');
    const url = await page.evaluate(() => navigator.clipboard.readText());
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/#graph=[A-Za-z0-9_-]+$/);
    expect(url.length).toBeLessThan(2000);

    const other = await context.newPage();
    await other.goto(url);
    await expect.poll(async () => (await docOf(other)).nodes.length).toBe(original.nodes.length);
    const opened = await docOf(other);
    expect(opened.nodes).toEqual(original.nodes);
    expect(opened.edges).toEqual(original.edges);
    await expect(other.getByLabel('Document title')).toContainText(`${original.metadata.name}.nngraph`);
    // The address no longer holds the graph, so a reload does not undo later edits.
    expect(new URL(other.url()).hash).toBe('');
  });

  test('a damaged link is refused with the reason, and the open graph stays as it was', async ({ page, context }) => {
    await page.goto('/');
    await page.getByRole('button', { name: 'Load MNIST MLP' }).click();
    await page.getByRole('button', { name: 'Copy link' }).click();
    const url = await page.evaluate(() => navigator.clipboard.readText());

    // Opened fresh: a cut-off link, as a chat program might leave it.
    const fresh = await context.newPage();
    await fresh.goto(url.slice(0, -15));
    await expect(fresh.getByRole('alert')).toContainText('Could not open the link: the link is damaged');
    expect((await docOf(fresh)).nodes).toHaveLength(0);

    // Pasted into the address bar of a tab with a graph open: that graph stays.
    const before = await docOf(page);
    await page.goto('/#graph=not$base64');
    await expect(page.getByRole('alert')).toContainText('characters a link of ours never contains');
    expect((await docOf(page)).nodes).toEqual(before.nodes);
  });

  test('a graph too large for a link says so and suggests the file', async ({ page }) => {
    await page.goto('/');
    await page.getByRole('button', { name: 'Load MNIST MLP' }).click();
    await page.evaluate(() => {
      let seed = 1;
      const next = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
      const noise = Array.from({ length: 40_000 }, () => String.fromCharCode(48 + Math.floor(next() * 75))).join('');
      (window as unknown as { __gradflow: { store: { getState(): { setMetadata(p: { description: string }): void } } } }).__gradflow.store.getState().setMetadata({ description: noise });
    });
    await page.getByRole('button', { name: 'Copy link' }).click();
    await expect(page.getByRole('status')).toContainText('Share the file instead');
  });
});

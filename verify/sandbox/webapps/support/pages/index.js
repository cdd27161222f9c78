// Pages router, prerendered at build time.
export default function Home() {
  return (
    <main>
      <h1>Mobilytics support</h1>
      <p data-static="home">Support back office</p>
    </main>
  );
}

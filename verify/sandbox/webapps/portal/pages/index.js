// Pages router, prerendered at build time.
export default function Home() {
  return (
    <main>
      <h1>Mobilytics portal</h1>
      <p data-static="home">Your trips and invoices</p>
    </main>
  );
}

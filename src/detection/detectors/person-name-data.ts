/**
 * Compact embedded name lists (lower case, accents stripped): common first
 * names and surnames across English, German, French, Spanish, Italian and
 * Dutch, plus words that look like names in a capitalised column but are not
 * (statuses, product words, colours, places used as labels).
 */

const FIRST = `
james john robert michael william david richard joseph thomas charles christopher daniel matthew anthony mark donald
steven paul andrew joshua kenneth kevin brian george timothy ronald edward jason jeffrey ryan jacob gary nicholas eric
jonathan stephen larry justin scott brandon benjamin samuel gregory alexander frank patrick raymond jack dennis jerry
tyler aaron jose adam nathan henry douglas zachary peter kyle ethan walter noah jeremy christian keith roger terry
austin sean gerald carl harold dylan arthur lawrence jordan jesse bryan billy bruce gabriel joe logan albert willie
alan eugene russell vincent philip bobby johnny bradley oliver harry charlie jake liam mason lucas leo oscar archie
mary patricia jennifer linda elizabeth barbara susan jessica sarah karen lisa nancy betty margaret sandra ashley
kimberly emily donna michelle carol amanda dorothy melissa deborah stephanie rebecca sharon laura cynthia kathleen
amy angela shirley anna brenda pamela emma nicole helen samantha katherine christine debra rachel carolyn janet
catherine maria heather diane ruth julie olivia joyce virginia victoria kelly lauren christina joan evelyn judith
megan andrea cheryl hannah jacqueline martha gloria teresa ann sara madison frances kathryn janice jean abigail
alice judy sophia grace denise amber doris marilyn danielle beverly isabella theresa diana natalie brittany charlotte
marie kayla alexis lori ava mia amelia isla poppy jessica lily chloe ella freya sophie ellie
hans peter klaus jurgen juergen wolfgang dieter manfred uwe gunter guenter horst helmut gerhard werner heinz karl
rolf bernd ralf frank stefan andreas thomas michael markus matthias martin christian jan tobias florian sebastian
lukas maximilian felix jonas leon finn paul elias ben noah luis moritz niklas tim fabian dominik philipp simon
kai jens sven torsten dirk holger uwe rainer joachim friedrich wilhelm otto heinrich ernst kurt
ursula ingrid helga gisela renate monika brigitte karin petra sabine claudia andrea susanne birgit heike kerstin
anja nicole stefanie katrin julia lena lea laura hannah lina mila emilia marie sophie johanna clara greta frieda
ida luisa charlotte leonie amelie anke silke tanja jutta gudrun elke heidi gabriele angelika barbel baerbel
jean pierre michel andre philippe alain jacques bernard rene christophe patrick nicolas daniel frederic eric
laurent stephane pascal olivier francois thierry sebastien julien guillaume antoine vincent yves gerard marcel
mathieu maxime alexandre romain hugo louis gabriel arthur raphael jules adam lucas nathan theo enzo clement
marie nathalie isabelle sylvie catherine francoise martine christine monique valerie sandrine veronique sophie
celine chantal nicole stephanie aurelie emilie camille lea manon chloe ines jade louise alice juliette margaux
anais mathilde elodie helene brigitte genevieve colette jacqueline simone odile
antonio jose manuel francisco juan david javier jesus carlos daniel miguel rafael pedro angel alejandro fernando
pablo luis sergio jorge alberto alvaro diego adrian raul enrique ramon vicente ignacio andres joaquin santiago
mateo hugo martin marcos emilio gonzalo ruben oscar victor eduardo roberto mario guillermo felipe ricardo
maria carmen ana isabel dolores pilar teresa rosa josefa cristina lucia laura marta paula elena sara raquel
manuela mercedes beatriz rocio julia alba irene andrea silvia patricia nuria sofia valeria martina daniela
carla claudia natalia esther eva veronica yolanda inmaculada concepcion montserrat encarnacion
giuseppe giovanni antonio mario luigi francesco angelo vincenzo pietro salvatore carlo franco domenico bruno paolo
michele giorgio aldo sergio luciano alessandro andrea marco matteo lorenzo leonardo riccardo davide simone
federico gabriele stefano roberto massimo fabio enrico emanuele tommaso edoardo filippo nicola gianluca
anna maria giuseppina rosa angela giovanna teresa lucia carmela caterina francesca chiara giulia sofia aurora
alessia martina elena valentina federica silvia paola roberta simona laura sara beatrice ginevra alice greta
daan sem finn luuk milan levi bram thijs jesse lars ruben stijn joris koen wouter pieter sander bas dirk
jeroen henk gerrit kees johannes cornelis willem hendrik jacobus
emma julia sanne lotte fleur anouk lisa eva iris femke ilse maaike marieke ingrid annemarie wilhelmina
mohammed muhammad ahmed ali omar fatima aisha yusuf ibrahim hassan mustafa mehmet ayse wei li chen ming yuki
hiroshi raj priya amit ananya arjun olga ivan dmitri sergei natasha irina katarzyna piotr anna tomasz
`;

const LAST = `
smith johnson williams brown jones garcia miller davis rodriguez martinez hernandez lopez gonzalez wilson anderson
thomas taylor moore jackson martin lee perez thompson white harris sanchez clark ramirez lewis robinson walker young
allen king wright scott torres nguyen hill flores green adams nelson baker hall rivera campbell mitchell carter
roberts gomez phillips evans turner diaz parker cruz edwards collins reyes stewart morris morales murphy cook rogers
gutierrez ortiz morgan cooper peterson bailey reed kelly howard ramos kim cox ward richardson watson brooks chavez
wood james bennett gray mendoza ruiz hughes price alvarez castillo sanders patel myers long ross foster jimenez
powell jenkins perry russell sullivan bell coleman butler henderson barnes fisher vasquez simmons graham
patterson jordan reynolds hamilton graham wallace west cole hayes bryant gibson ellis stevens murray ford marshall
owens mcdonald harrison kennedy wells hunt black palmer holmes mills grant knight ferguson rose stone hawkins dunn
obrien o'brien oconnor o'connor murphy walsh byrne ryan kelly doyle mccarthy davies jones evans thomas roberts
muller mueller schmidt schneider fischer weber meyer wagner becker schulz hoffmann schafer schaefer koch bauer
richter klein wolf schroder schroeder neumann schwarz zimmermann braun kruger krueger hofmann hartmann lange
schmitt werner schmitz krause meier lehmann schmid schulze maier kohler koehler herrmann konig koenig walter
mayer huber kaiser fuchs peters lang scholz moller moeller weiss jung hahn schubert vogel friedrich keller
gunther guenther frank berger winkler roth beck lorenz baumann franke albrecht schuster simon ludwig bohm boehm
winter kraus martin schumacher kramer vogt stein jager jaeger otto sommer gross seidel heinrich brandt haas
schreiber graf schulte dietrich ziegler kuhn kuehn pohl engel horn busch bergmann thomas voigt sauer arnold
martin bernard dubois thomas robert richard petit durand leroy moreau simon laurent lefebvre michel garcia david
bertrand roux vincent fournier morel girard andre lefevre mercier dupont lambert bonnet francois martinez legrand
garnier faure rousseau blanc guerin muller henry roussel nicolas perrin morin mathieu clement gauthier dumont
lopez fontaine chevalier robin masson sanchez gerard nguyen boyer denis lemaire duval joly gautier roger roche
roy noel meyer lucas meunier jean perez marchand dufour blanchard marie barbier brun dumas brunet schmitt leroux
colin fernandez pierre renard arnaud rolland caron aubert giraud leclerc vidal bourgeois renaud lemoine picard
garcia rodriguez gonzalez fernandez lopez martinez sanchez perez gomez martin jimenez ruiz hernandez diaz moreno
munoz alvarez romero alonso gutierrez navarro torres dominguez vazquez ramos gil ramirez serrano blanco molina
morales suarez ortega delgado castro ortiz rubio marin sanz nunez iglesias medina garrido cortes castillo santos
lozano guerrero cano prieto mendez cruz calvo gallego vidal leon marquez herrera pena flores cabrera campos vega
fuentes carrasco diez caballero reyes nieto aguilar pascual santana herrero lorenzo montero hidalgo gimenez
ibanez ferrer duran santiago benitez mora vicente vargas arias carmona crespo roman pastor soto saez velasco
rossi russo ferrari esposito bianchi romano colombo ricci marino greco bruno gallo conti deluca de luca mancini
costa giordano rizzo lombardi moretti barbieri fontana santoro mariani rinaldi caruso ferrara galli martini
leone longo gentile martinelli vitale lombardo serra coppola desantis de santis damico d'amico marchetti
parisi villa conte ferraro ferri fabbri bianco marini grasso valentini messina sala de angelis gatti pellegrini
palumbo sanna farina rizzi monti cattaneo morelli amato silvestri mazza testa grassi pellegrino carbone
giuliani benedetti barone rossetti caputo montanari guerra palmieri bernardi martino fiore de rosa ferretti
bellini basile riva donati piras vitali battaglia sartori neri costantini milani pagano ruggiero sorrentino
de jong jansen de vries van den berg van dijk bakker janssen visser smit meijer de boer mulder de groot bos vos
peters hendriks van leeuwen dekker brouwer de wit dijkstra smits de graaf van der meer van der linden kok jacobs
de haan vermeulen van den heuvel van der veen van den broek de bruijn de bruin van der heijden schouten
van beek willems van vliet van de ven hoekstra maas verhoeven koster van dam van der wal prins blom huisman
peeters maes claes goossens wouters de smet dubois lambert
wang li zhang liu chen yang huang zhao wu zhou xu sun ma zhu hu guo he lin luo kumar singh sharma khan ahmed
ali hussain rahman yilmaz kaya demir sahin celik tanaka suzuki takahashi watanabe ito yamamoto nakamura kobayashi
ivanov smirnov kuznetsov popov petrov nowak kowalski wisniewski wojcik kowalczyk kaminski lewandowski
silva santos oliveira souza pereira costa ferreira rodrigues almeida nascimento lima araujo carvalho gomes
`;

/** Words that often appear capitalised in short text columns and are not names. */
const NOT_NAMES = `
active inactive pending approved rejected cancelled canceled completed complete shipped delivered processing
paid unpaid refunded failed success error open closed new draft published archived deleted enabled disabled
yes no true false none null unknown other default test demo sample admin user guest customer manager
red blue green yellow black white orange purple pink brown grey gray silver gold
widget gadget product item order invoice payment account service premium basic standard pro free trial
monday tuesday wednesday thursday friday saturday sunday january february march april may june july august
september october november december small medium large extra north south east west central
street road avenue lane drive city town country state county region main high
mr mrs ms miss dr prof sir madam herr frau monsieur madame senor senora signor signora
fort lake port mount mountain saint st san santa sankt new old little great upper lower valley river beach bay island
city village springs falls heights park view point harbor harbour island isles land
inc llc ltd limited gmbh ag sa sas sarl srl spa bv nv co corp corporation company group holding holdings plc kg ohg ug
and sons partners associates solutions systems services technologies international global industries enterprises
ergonomic rustic intelligent handcrafted handmade refined practical sleek licensed generic gorgeous incredible fantastic
awesome tasty unbranded small fresh frozen soft luxurious modern oriental bespoke elegant electronic recycled
wooden steel concrete plastic cotton granite rubber metal bronze marble leather ceramic
chair car computer keyboard mouse bike ball gloves pants shirt table shoes hat towels soap tuna chicken fish cheese
bacon pizza salad sausages chips computer phone tablet laptop monitor camera watch bag book lamp desk sofa bed
books movies music games electronics toys industrial tools grocery health beauty kids baby clothing outdoors sports
jewelry automotive home garden shoes computers
court cove landing dam meadows meadow crescent close terrace grove gardens square drove parade mews rise
calle via rue huerta conjunto plaza paseo camino ronda avenida carrera sector seccion barrio colonia
`;

const split = (s: string): string[] => s.split(/\s+/).filter((w) => w.length > 0);

export const FIRST_NAMES: ReadonlySet<string> = new Set(split(FIRST));
export const NOT_NAME_WORDS: ReadonlySet<string> = new Set(split(NOT_NAMES));
/** Lower-case particles allowed inside names: "Ludwig van Beethoven", "María de la Cruz". */
export const NAME_PARTICLES: ReadonlySet<string> = new Set(['van', 'von', 'der', 'den', 'de', 'del', 'della', 'di', 'da', 'du', 'la', 'le', 'y', 'zu', 'ten', 'ter', 'dos', 'das', 'bin', 'al', "d'", 'el']);
/** Surnames; multi-word entries ("van den berg") contribute their last word. */
export const SURNAMES: ReadonlySet<string> = new Set(split(LAST).filter((w) => !NAME_PARTICLES.has(w)));
